import Foundation
@testable import Probes
import Stream
import XCTest

/// Addresses of this process named through its mappings and the mapped files' ELF symbols:
/// a function of a shared library (libc) and one of the test executable itself.
final class SymbolizerTests: XCTestCase {
    func testAddressesInALibraryAndInTheExecutableAreNamed() throws {
        let handle = dlopen(nil, RTLD_NOW)
        let getpidAddress = UInt64(UInt(bitPattern: try XCTUnwrap(dlsym(handle, "getpid"))))
        let ownFunction: @convention(c) () -> Void = vigilTestKnownFunction
        let own = unsafeBitCast(ownFunction, to: UInt.self)
        let frames = Symbolizer().userFrames(pid: getpid(), [getpidAddress + 1, UInt64(own) + 1])
        XCTAssertEqual(frames[0].function, "getpid", "\(frames[0])")
        XCTAssertTrue(frames[0].mapping?.contains("libc") ?? false, "\(frames[0])")
        // A return address: the call is one byte before, still inside the function.
        XCTAssertEqual(frames[1].function, "vigil_test_known_function", "\(frames[1])")
    }

    func testAKernelAddressIsNamedFromKallsyms() throws {
        let text = try XCTUnwrap(readProcFile("/proc/kallsyms"))
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasSuffix(" T schedule") || $0.contains(" T schedule\t") })
        let address = try XCTUnwrap(UInt64(line.split(separator: " ")[0], radix: 16))
        XCTAssertEqual(Symbolizer().kernelFrame(address + 4).function, "schedule")
    }
}

@_cdecl("vigil_test_known_function")
func vigilTestKnownFunction() { spinSink &+= 1 }
