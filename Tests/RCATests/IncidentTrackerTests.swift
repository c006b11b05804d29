import Stream
import XCTest
@testable import RCA

final class IncidentTrackerTests: XCTestCase {
    /// gateway → orders → payments, and an unrelated batch job on its own host.
    let topology: GraphTopology = {
        var w = GraphWindow(start: 0, end: 60_000)
        w.calls[CallKey(caller: .service("gateway"), callee: .service("orders"))] = CallStats()
        w.calls[CallKey(caller: .service("orders"), callee: .service("payments"))] = CallStats()
        w.runsOn.insert(Link(from: .service("batch"), to: Entity(.pod, "batch-1")))
        return GraphTopology([w])
    }()

    func event(_ t: Int64, _ service: String) -> AnomalyEvent { AnomalyEvent(time: t, entity: .service(service), signal: "latency_p99", score: 0.9) }

    func testConnectedAnomaliesCloseInTimeAreOneIncident() {
        var tracker = IncidentTracker()
        XCTAssertEqual(tracker.observe(event(1000, "payments"), topology: topology), .opened(1))
        XCTAssertEqual(tracker.observe(event(20_000, "gateway"), topology: topology), .updated(1))
        XCTAssertEqual(tracker.observe(event(30_000, "batch"), topology: topology), .opened(2))
        XCTAssertEqual(tracker.open.map(\.entities), [[.service("payments"), .service("gateway")], [.service("batch")]])
    }

    func testAnAnomalyLongAfterTheLastEvidenceOpensANewIncident() {
        var tracker = IncidentTracker(config: IncidentConfig(joinWithinMillis: 60_000, quietMillis: 600_000))
        _ = tracker.observe(event(0, "orders"), topology: topology)
        XCTAssertEqual(tracker.observe(event(61_000, "orders"), topology: topology), .opened(2))
    }

    func testABridgingAnomalyMergesIncidents() {
        var tracker = IncidentTracker(config: IncidentConfig(maxHops: 1))
        _ = tracker.observe(event(0, "gateway"), topology: topology)
        _ = tracker.observe(event(1000, "payments"), topology: topology)  // two hops away: separate
        XCTAssertEqual(tracker.open.count, 2)
        XCTAssertEqual(tracker.observe(event(2000, "orders"), topology: topology), .merged(into: 1, from: [2]))
        XCTAssertEqual(tracker.open.count, 1)
        XCTAssertEqual(tracker.open[0].events.map(\.time), [0, 1000, 2000])
    }

    func testIncidentsCloseAfterTheQuietPeriodAndEvidenceIsBounded() {
        var tracker = IncidentTracker(config: IncidentConfig(quietMillis: 300_000, maxEvents: 3))
        for t in stride(from: Int64(0), to: 5000, by: 1000) { _ = tracker.observe(event(t, "orders"), topology: topology) }
        XCTAssertEqual(tracker.open[0].events.count, 3)
        XCTAssertEqual(tracker.open[0].droppedEvents, 2)
        XCTAssertTrue(tracker.advance(to: 200_000).isEmpty)
        let closed = tracker.advance(to: 304_000)
        XCTAssertEqual(closed.map(\.closed), [304_000])
        XCTAssertTrue(tracker.open.isEmpty)
    }

    func testTrackerAndGraphStateRoundTrip() throws {
        var tracker = IncidentTracker()
        _ = tracker.observe(event(1000, "payments"), topology: topology)
        var system = SyntheticSystem()
        for s in 0..<130 { system.request(chain: ["a", "b"], second: s, lines: ["b": [3, 4]]) }
        system.graph.add(ObservedMetric(timeNanos: 125_000_000_000, entity: Entity(.pod, "b-pod"), name: "cpu", value: 3))
        system.graph.advance(toWatermark: 120_000)
        XCTAssertFalse(system.graph.open.isEmpty, "the test needs a window still open")

        var w = StateWriter()
        tracker.encode(to: &w)
        system.graph.encode(to: &w)
        var r = StateReader(w.bytes)
        let tracker2 = try IncidentTracker.decode(from: &r)
        var graph2 = try KnowledgeGraph.decode(from: &r)
        XCTAssertEqual(tracker2.open, tracker.open)
        XCTAssertEqual(tracker2.nextID, tracker.nextID)

        // The restored graph goes on exactly as the original.
        var original = system.graph
        XCTAssertEqual(original.flush().map { try! $0.json() }, graph2.flush().map { try! $0.json() })
        XCTAssertEqual(original.closed.count, graph2.closed.count)
        XCTAssertEqual(try original.closed.map { try $0.json() }, try graph2.closed.map { try $0.json() })
        XCTAssertEqual(graph2.closed.last?.metrics[MetricKey(entity: Entity(.pod, "b-pod"), name: "cpu")]?.values.count, 1)
    }

    func testCorruptStateIsRejected() {
        var w = StateWriter()
        KnowledgeGraph().encode(to: &w)
        var bytes = w.bytes
        for i in 0..<8 { bytes[i] = 0 }  // window length 0
        var r = StateReader(bytes)
        XCTAssertThrowsError(try KnowledgeGraph.decode(from: &r))
    }

    func testAnIncidentFromDetectorEventsIsRankedFromTheGraph() {
        var system = SyntheticSystem()
        let chain = ["gateway", "orders", "ledger"]
        for s in stride(from: 0, to: 600, by: 2) { system.request(chain: chain, second: s) }
        for s in stride(from: 600, to: 780, by: 2) { system.request(chain: chain, second: s, selfMicros: ["ledger": 30_000]) }
        system.graph.flush()
        let topology = GraphTopology(system.graph.closed)
        var tracker = IncidentTracker()
        // What RED-metric detectors would report: the callers first, as users feel them.
        for (t, s) in [(640_000, "gateway"), (650_000, "orders"), (700_000, "ledger")] {
            _ = tracker.observe(AnomalyEvent(time: Int64(t), entity: .service(s), signal: "latency_p99", score: 0.95), topology: topology)
        }
        XCTAssertEqual(tracker.open.count, 1)
        let ranking = IncidentAnalysis().rank(tracker.open[0], graph: system.graph)
        XCTAssertEqual(ranking.first?.entity, .service("ledger"), "\(ranking.prefix(3))")
        XCTAssertEqual(ranking.first?.path.first, .service("gateway"))
    }
}
