import Foundation
import Stream
import XCTest
@testable import RCA

/// The root-cause operator on the runtime's deterministic harness: telemetry and anomalies in,
/// incident reports out, by event time; and a checkpoint taken mid-incident restores to exactly
/// the reports an uninterrupted run makes.
final class RCAFunctionTests: XCTestCase {
    let config = RCAConfig(graph: KnowledgeGraphConfig(windowMillis: 60_000, retainedWindows: 30, allowedLatenessMillis: 1_000),
                           incidents: IncidentConfig(quietMillis: 180_000))

    /// Ten minutes of gateway → orders → ledger, then ledger's own time goes from 1 ms to 30 ms;
    /// RED detectors report the callers first (as users feel it), then ledger; then it is quiet.
    func workload() -> [(RCAInput, Timestamp)] {
        var system = SyntheticSystem()
        let chain = ["gateway", "orders", "ledger"]
        for s in stride(from: 0, to: 600, by: 2) { system.request(chain: chain, second: s) }
        for s in stride(from: 600, to: 780, by: 2) { system.request(chain: chain, second: s, selfMicros: ["ledger": 30_000]) }
        for s in stride(from: 780, to: 1200, by: 2) { system.request(chain: chain, second: s) }
        var out = system.recorded.map { ($0, Timestamp($0.time)) }
        for (t, s) in [(640_000, "gateway"), (650_000, "orders"), (700_000, "ledger")] {
            let e = RCAInput.anomaly(AnomalyEvent(time: Int64(t), entity: .service(s), signal: "latency_p99", score: 0.95))
            out.append((e, Timestamp(t)))
        }
        return out.sorted { $0.1 < $1.1 }
    }

    func feed(_ input: ManualInput<RCAInput>, _ records: ArraySlice<(RCAInput, Timestamp)>) {
        for (r, t) in records {
            input.send(r, at: t)
            input.watermark(t - 1)
        }
    }

    func testAnIncidentOpensNamesTheCauseAndCloses() throws {
        let h = StreamTestHarness(of: RCAInput.self) { $0.rootCauses(config: config) }
        for (r, t) in workload() { try h.send(r, at: t); try h.watermark(t - 1) }
        try h.end()
        let reports = h.output
        XCTAssertEqual(reports.first?.change, .opened)
        XCTAssertEqual(reports.filter { $0.change == .opened }.count, 1, "\(reports)")
        let closed = try XCTUnwrap(reports.last { $0.change == .closed }, "\(reports)")
        XCTAssertEqual(closed.incident.entities, [.service("gateway"), .service("orders"), .service("ledger")])
        XCTAssertEqual(closed.causes.first?.entity, .service("ledger"), "\(closed)")
        XCTAssertEqual(closed.causes.first?.path, [.service("gateway"), .service("orders"), .service("ledger")])
        XCTAssertTrue(closed.description.contains("most likely cause ledger"), closed.description)
        // Between opening and closing, the first-ranked cause reached ledger in an update or at once.
        XCTAssertTrue(reports.contains { $0.change != .closed && $0.causes.first?.entity == .service("ledger") }, "\(reports)")
    }

    /// A live run's watermark creeps after every record; a replay reads far ahead and its
    /// watermark leaps. The reports must not depend on which (they did: an anomaly was grouped
    /// with whichever graph windows happened to be assembled when it arrived).
    func testTheReportsDoNotDependOnHowTheWatermarkAdvances() throws {
        func reports(_ watermarkEvery: Int?) throws -> [String] {
            let h = StreamTestHarness(of: RCAInput.self) { $0.rootCauses(config: config).map { $0.description } }
            let all = workload()
            for (i, (r, t)) in all.enumerated() {
                try h.send(r, at: t)
                if let every = watermarkEvery, i % every == 0 { try h.watermark(t - 1) }
            }
            try h.end()
            return h.output
        }
        let creeping = try reports(1)
        XCTAssertTrue(creeping.contains { $0.contains("closed") }, "\(creeping)")
        XCTAssertEqual(try reports(400), creeping, "watermarks every 400 records")
        XCTAssertEqual(try reports(nil), creeping, "everything read before the first watermark")
    }

    func testARestoredJobReportsExactlyWhatAnUninterruptedOneDoes() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rca-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let all = workload()
        func job(_ dir: String) -> (StreamEnvironment, ManualInput<RCAInput>, CollectedRecords<String>) {
            let env = StreamEnvironment(name: "rca-checkpoints", parallelism: 1)
            env.checkpointing = CheckpointConfig(directory: dir, interval: nil)
            let (records, input) = env.manualSource(RCAInput.self)
            let out = records.rootCauses(config: config).map { "\($0.change.rawValue) \($0.incident.id) \($0.causes.map(\.entity.name))" }.collect()
            return (env, input, out)
        }
        let (refEnv, refInput, refOut) = job(base + "/reference")
        let ref = try refEnv.embedded()
        feed(refInput, all[...])
        refInput.end()
        try ref.runUntilIdle()
        let expected = refOut.values
        XCTAssertTrue(expected.contains { $0.hasPrefix("closed") }, "\(expected)")

        // Checkpoint while the incident is open, lose what follows, restore, go on.
        let cut = all.firstIndex { $0.1 >= 720_000 }!
        let (env1, input1, out1) = job(base + "/job")
        let run1 = try env1.embedded()
        feed(input1, all[..<cut])
        try run1.runUntilIdle()
        try run1.triggerCheckpoint()
        let before = out1.values
        XCTAssertTrue(before.contains { $0.hasPrefix("opened") }, "\(before)")
        feed(input1, all[cut..<(cut + 500)])
        try run1.runUntilIdle()

        let (env2, input2, out2) = job(base + "/job")
        let run2 = try env2.embedded()
        feed(input2, all[cut...])
        input2.end()
        try run2.runUntilIdle()
        XCTAssertEqual(before + out2.values, expected)
    }
}
