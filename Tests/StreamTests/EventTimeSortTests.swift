import Stream
import XCTest

/// `sortedByEventTime` on the deterministic harness: records wait for the watermark, then
/// leave in time order per key, whatever order they came in.
final class EventTimeSortTests: XCTestCase {
    struct Line: StateCodable, Sendable, Equatable {
        var key: String
        var text: String
        func encode(to w: inout StateWriter) { key.encode(to: &w); text.encode(to: &w) }
        static func decode(from r: inout StateReader) throws -> Line { Line(key: try .decode(from: &r), text: try .decode(from: &r)) }
    }

    func testRecordsLeaveInTimeOrderOnceTheWatermarkPassesThem() throws {
        let h = StreamTestHarness(of: Line.self) { $0.keyBy(\.key).sortedByEventTime().map { "\($0.key)\($0.text)" } }
        // Two partitions' interleaving: b's records run ahead of a's.
        try h.send([(Line(key: "a", text: "3"), 30), (Line(key: "a", text: "1"), 10), (Line(key: "b", text: "5"), 50),
                    (Line(key: "a", text: "2"), 20), (Line(key: "b", text: "4"), 20), (Line(key: "a", text: "2'"), 20)])
        XCTAssertEqual(h.takeOutput(), [], "nothing leaves before the watermark")
        try h.watermark(20)
        XCTAssertEqual(h.takeOutput().sorted(), ["a1", "a2", "a2'", "b4"].sorted())
        try h.watermark(29)
        XCTAssertEqual(h.takeOutput(), [])
        try h.send(Line(key: "a", text: "4"), at: 40)
        try h.end()
        XCTAssertEqual(h.takeOutput().sorted(), ["a3", "a4", "b5"].sorted())
    }

    func testEqualTimesKeepTheirArrivalOrderPerKey() throws {
        let h = StreamTestHarness(of: Line.self) { $0.keyBy(\.key).sortedByEventTime().map { $0.text } }
        try h.send([(Line(key: "a", text: "x"), 7), (Line(key: "a", text: "y"), 5), (Line(key: "a", text: "z"), 7), (Line(key: "a", text: "w"), 5)])
        try h.end()
        XCTAssertEqual(h.takeOutput(), ["y", "w", "x", "z"])
    }
}
