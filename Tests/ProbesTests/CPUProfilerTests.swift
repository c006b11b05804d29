import Foundation
import OTLPProto
import Probes
import Stream
import VigilTestSupport
import XCTest

/// The CPU profiler for real: this process spins in a known function for a second; that
/// function is the top frame of most of its samples, and the pprof file says so too, read by
/// a pprof decoder that is not Vigil's.
final class CPUProfilerTests: XCTestCase {
    func testASpinningFunctionIsTheTopFrameAndThePprofFileSaysSo() throws {
        let profiler = try CPUProfiler(frequency: 99)
        _ = try profiler.collect()  // start the window now
        let done = DispatchSemaphore(value: 0)
        Thread { spinInKnownFunction(seconds: 1.0); done.signal() }.start()
        done.wait()
        let profile = try profiler.collect()

        let shares = profile.leafShares(pid: getpid())
        let top = try XCTUnwrap(shares.first, "no samples of this process: \(profile.totalSamples) in all")
        XCTAssertTrue(top.function.contains("spinInKnownFunction"), "\(shares.prefix(5))")
        XCTAssertGreaterThan(top.share, 0.5, "\(shares.prefix(5))")
        let mine = profile.samples.filter { $0.pid == getpid() }.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThan(mine, 60, "about 99 samples in a second of spinning at 99 Hz")
        XCTAssertLessThan(mine, 160)
        XCTAssertEqual(profile.lostSamples, 0)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(UUID()).pb.gz").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(Pprof.gzipped(profile)).write(to: URL(fileURLWithPath: file))
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
        let line = try ChildProcesses.run("python3", [fixtures + "/pprof_top.py", file, String(getpid())])
        let parts = line.split(separator: " ")
        XCTAssertEqual(parts.first, "TOP", line)
        XCTAssertTrue(parts.count == 4 && parts[1].contains("spinInKnownFunction"), line)
        XCTAssertGreaterThan(Double(parts.count == 4 ? parts[2] : "0") ?? 0, 0.5, line)
        // And Google's protobuf library, given pprof's schema, reads the same.
        let withLibrary = try ChildProcesses.run(try Self.pythonWithProtobuf(), [fixtures + "/pprof_top_protobuf.py", file, String(getpid())])
        XCTAssertEqual(withLibrary, line)

        // As OTLP profiles: decoded back with the generated messages, this process's resource
        // has a profile whose heaviest leaf is the same function.
        let request = try OTLPProfiles.Request(serializedBytes: try OTLPProfiles.encoded(profile))
        let d = request.dictionary
        XCTAssertEqual(d.stringTable.first, "")
        let resource = try XCTUnwrap(request.resourceProfiles.first { r in
            r.resource.attributes.contains { $0.key == "process.pid" && $0.value.stringValue == String(getpid()) }
        })
        var leaves: [String: Int64] = [:]
        for s in resource.scopeProfiles[0].profiles[0].samples {
            let leaf = d.locationTable[Int(d.stackTable[Int(s.stackIndex)].locationIndices[0])]
            let name = leaf.lines.first.map { d.stringTable[Int(d.functionTable[Int($0.functionIndex)].nameStrindex)] } ?? "?"
            leaves[name, default: 0] += s.values[0]
        }
        let heaviest = try XCTUnwrap(leaves.max { $0.value < $1.value })
        XCTAssertTrue(heaviest.key.contains("spinInKnownFunction"), "\(leaves)")
    }
}

extension CPUProfilerTests {
    /// A Python that has the protobuf package: the OTLP interop test's venv (scripts/test makes
    /// it first), else one made here.
    static func pythonWithProtobuf() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        for venv in [root + "/.build/peer-venv", root + "/.build/pprof-venv"] {
            let python = venv + "/bin/python"
            if FileManager.default.isExecutableFile(atPath: python), (try? ChildProcesses.run(python, ["-c", "import google.protobuf"])) != nil { return python }
        }
        let venv = root + "/.build/pprof-venv"
        try ChildProcesses.run("python3", ["-m", "venv", venv])
        try ChildProcesses.run(venv + "/bin/pip", ["install", "-q", "--disable-pip-version-check", "protobuf"], timeout: 300)
        return venv + "/bin/python"
    }

    /// As a source: a profile per window, the windows back to back.
    func testTheProfilerSourceEmitsAProfilePerWindow() throws {
        let env = StreamEnvironment(name: "profiles", parallelism: 1)
        let profiles = env.cpuProfiles(window: .milliseconds(300)).collect()
        let job = try env.start()
        defer { job.cancel(); _ = try? job.wait() }
        let deadline = Date().addingTimeInterval(20)
        while profiles.count < 3, Date() < deadline { spinInKnownFunction(seconds: 0.05) }
        let p = profiles.values
        XCTAssertGreaterThanOrEqual(p.count, 3)
        for (a, b) in zip(p, p.dropFirst()) { XCTAssertEqual(a.endUnixNanos, b.startUnixNanos) }
        XCTAssertTrue(p.contains { $0.samples.contains { $0.pid == getpid() } }, "this process was on the CPU")
    }
}

nonisolated(unsafe) var spinSink: UInt64 = 0

@inline(never)
func spinInKnownFunction(seconds: Double) {
    let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    var x: UInt64 = 1
    while DispatchTime.now().uptimeNanoseconds < end {
        for _ in 0..<10_000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
    }
    spinSink = x
}
