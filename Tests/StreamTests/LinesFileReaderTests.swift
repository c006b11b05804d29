import Foundation
import XCTest
@testable import Stream

final class LinesFileReaderTests: XCTestCase {
    /// A reader restored as done closed its file; reading it then closed the same number
    /// again, which by then belonged to a file another thread had opened (found by the
    /// remediation crash test: the dispatcher's outbox read failed with EBADF).
    func testAReaderRestoredAsDoneClosesItsFileOnceOnly() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-lines-\(UUID())").path
        try "a\nb\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try LinesFileReader(path: path, subtask: 0, parallelism: 1)
        var w = StateWriter()
        w.writeVarint(4)
        true.encode(to: &w)
        var r = StateReader(w.bytes)
        try reader.restorePosition(from: &r)
        // Someone else's file, most likely under the number the reader just gave back.
        let other = open("/dev/null", O_RDONLY)
        XCTAssertGreaterThanOrEqual(other, 0)
        defer { close(other) }
        let context = SourceContext<String>(output: Output<String>(), timestampOf: nil)
        XCTAssertEqual(try reader.read(into: context, limit: 10), .finished)
        XCTAssertEqual(try reader.read(into: context, limit: 10), .finished)
        XCTAssertNotEqual(fcntl(other, F_GETFD), -1, "the reader closed a descriptor that was no longer its own")
    }
}

/// A collection is dealt to its splits in blocks: every element is read exactly once and in
/// order within its split, whatever the batch limits, and a split restored from a position
/// carries on where it was.
final class CollectionReaderTests: XCTestCase {
    private func readAll(_ reader: inout CollectionReader<Int>, limits: [Int]) throws -> [Int] {
        let output = Output<Int>()
        var seen: [Int] = []
        output.connect([Push<Int> { v, _ in seen.append(v) }], [])
        let context = SourceContext<Int>(output: output, timestampOf: nil)
        var i = 0
        while try reader.read(into: context, limit: limits[i % limits.count]) == .more { i += 1 }
        return seen
    }

    func testEveryElementIsReadOnceInOrderPerSplit() throws {
        let block = CollectionReader<Int>.blockLength
        for count in [0, 1, block - 1, block, block + 1, 5 * block + 17] {
            for parallelism in [1, 2, 3] {
                let elements = Array(0..<count)
                var all: [Int] = []
                for s in 0..<parallelism {
                    var reader = CollectionReader(elements: elements, subtask: s, parallelism: parallelism)
                    let split = try readAll(&reader, limits: [1, 7, block, 3 * block])
                    XCTAssertEqual(split, split.sorted(), "split \(s) of \(parallelism), \(count) elements")
                    XCTAssertTrue(split.allSatisfy { ($0 / block) % parallelism == s }, "split \(s) read another's block")
                    all += split
                }
                XCTAssertEqual(all.sorted(), elements, "\(count) elements over \(parallelism) splits")
            }
        }
    }

    func testARestoredSplitCarriesOnWhereItWas() throws {
        let block = CollectionReader<Int>.blockLength
        let elements = Array(0..<(6 * block + 5))
        let whole = try { var r = CollectionReader(elements: elements, subtask: 1, parallelism: 2); return try readAll(&r, limits: [block]) }()
        for stop in [1, block - 1, block, block + 3] {
            var first = CollectionReader(elements: elements, subtask: 1, parallelism: 2)
            let context = SourceContext<Int>(output: Output<Int>(), timestampOf: nil)
            _ = try first.read(into: context, limit: stop)
            var w = StateWriter()
            first.snapshotPosition(into: &w)
            var restored = CollectionReader(elements: elements, subtask: 1, parallelism: 2)
            var r = StateReader(w.bytes)
            try restored.restorePosition(from: &r)
            XCTAssertEqual(try readAll(&restored, limits: [block]), Array(whole.dropFirst(stop)), "restored after \(stop)")
        }
    }

    /// A position it cannot resume exactly is refused with a reason, never read from the
    /// wrong place: one written by the element-wise split (the index alone), or one in
    /// another split's block.
    func testAPositionFromAnotherSplittingIsRefused() throws {
        let block = CollectionReader<Int>.blockLength
        let elements = Array(0..<(4 * block))
        var old = StateWriter()
        old.writeVarint(3)  // split 1 of 2 dealt one by one: elements 1, 3, 5, ...
        var reader = CollectionReader(elements: elements, subtask: 1, parallelism: 2)
        var r = StateReader(old.bytes)
        XCTAssertThrowsError(try reader.restorePosition(from: &r)) {
            XCTAssertTrue("\($0)".contains("another way of splitting"), "\($0)")
        }
        var foreign = StateWriter()
        foreign.writeVarint(5)  // in block 0, split 0's
        foreign.writeVarint(block)
        r = StateReader(foreign.bytes)
        XCTAssertThrowsError(try reader.restorePosition(from: &r)) {
            XCTAssertTrue("\($0)".contains("not in one of this split's blocks"), "\($0)")
        }
    }
}
