import XCTest
@testable import RCA

final class KnowledgeGraphTests: XCTestCase {
    func testSpansBecomeServicesCallEdgesAndRunsOnLinks() {
        var system = SyntheticSystem()
        for s in 0..<10 { system.request(chain: ["frontend", "cart", "db-proxy"], second: s, wireMicros: 500, lines: ["cart": [1, 2]]) }
        system.graph.flush()
        let w = system.graph.closed[0]
        XCTAssertEqual(w.services, ["frontend", "cart", "db-proxy"])
        let edge = w.calls[CallKey(caller: .service("frontend"), callee: .service("cart"))]
        XCTAssertEqual(edge?.count, 10)
        // Wire time is the client span minus the server span: 500 µs within the sketch's 1%.
        XCTAssertEqual(edge?.gap.quantile(0.5) ?? 0, 500, accuracy: 5)
        XCTAssertNil(w.calls[CallKey(caller: .service("cart"), callee: .service("frontend"))])
        XCTAssertTrue(w.runsOn.contains(Link(from: .service("cart"), to: Entity(.pod, "cart-pod"))))
        XCTAssertTrue(w.runsOn.contains(Link(from: Entity(.pod, "cart-pod"), to: Entity(.host, "node-1"))))
        let cart = w.operations[OperationKey(service: "cart", operation: "handle")]!
        XCTAssertEqual(cart.spansWithTemplate, [1: 10, 2: 10])
        XCTAssertEqual(cart.transitions[TransitionKey(from: TransitionKey.start, to: 1)], 10)
        XCTAssertEqual(cart.transitions[TransitionKey(from: 1, to: 2)], 10)
        XCTAssertEqual(cart.transitions[TransitionKey(from: 2, to: TransitionKey.end)], 10)
        // Self time excludes the child call: 1 ms of its own, not the 2.7 ms the span lasted.
        XCTAssertEqual(cart.selfTime.quantile(0.5) ?? 0, 1000, accuracy: 15)
    }

    func testALineRepeatedBackToBackIsOneStep() {
        var system = SyntheticSystem()
        system.request(chain: ["a"], second: 1, lines: ["a": [7, 7, 7, 8]])
        system.graph.flush()
        let op = system.graph.closed[0].operations[OperationKey(service: "a", operation: "handle")]!
        XCTAssertNil(op.transitions[TransitionKey(from: 7, to: 7)])
        XCTAssertEqual(op.transitions[TransitionKey(from: 7, to: 8)], 1)
    }

    func testLinesWrittenAfterTheirSpansWindowEndedStillCount() {
        var graph = KnowledgeGraph(config: KnowledgeGraphConfig(windowMillis: 1000, retainedWindows: 10, allowedLatenessMillis: 0))
        graph.add(ObservedSpan(service: "a", operation: "op", spanID: 5, parentSpanID: 0, startNanos: 900_000_000, durationNanos: 300_000_000))
        graph.add(ObservedLog(timeNanos: 1_150_000_000, service: "a", spanID: 5, templateID: 3, isError: false))
        let closed = graph.advance(toWatermark: 1000)
        XCTAssertEqual(closed.count, 1)
        XCTAssertEqual(closed[0].operations[OperationKey(service: "a", operation: "op")]?.spansWithTemplate[3], 1)
    }

    func testLateRecordsAreCountedAndOldWindowsDropped() {
        var graph = KnowledgeGraph(config: KnowledgeGraphConfig(windowMillis: 1000, retainedWindows: 3, allowedLatenessMillis: 0))
        for s in 0..<6 {
            graph.add(ObservedSpan(service: "a", operation: "op", spanID: UInt64(s + 1), parentSpanID: 0, startNanos: UInt64(s) * 1_000_000_000, durationNanos: 1))
            graph.advance(toWatermark: Int64(s) * 1000)
        }
        graph.add(ObservedSpan(service: "a", operation: "op", spanID: 99, parentSpanID: 0, startNanos: 0, durationNanos: 1))
        XCTAssertEqual(graph.lateRecords, 1)
        graph.flush()
        XCTAssertEqual(graph.closed.map(\.start), [3000, 4000, 5000])
    }
}
