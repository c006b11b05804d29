import AIOps
import Detectors
import RCA
import Stream
import XCTest

/// The whole pipeline on the runtime's deterministic harness: spans and logs of a small system
/// in, RED and log detectors finding what users feel, incidents out with the cause ranked first.
final class AIOpsPipelineTests: XCTestCase {
    /// gateway → orders → ledger, a request every half second; from minute 12 to minute 15
    /// ledger's own time goes from 1 ms to 40 ms and it logs an error line in every request.
    static func workload(base: Int64 = 0) -> [(Telemetry, Timestamp)] {
        var out: [(Telemetry, Timestamp)] = []
        var id: UInt64 = 1
        let chain = ["gateway", "orders", "ledger"]
        for step in 0..<(20 * 120) {
            let offset = Int64(step) * 500
            let ms = base + offset
            let faulty = offset >= 720_000 && offset < 900_000
            let base = UInt64(ms) * 1_000_000
            var duration: [UInt64] = [0, 0, 0]
            for i in chain.indices.reversed() {
                let own: UInt64 = (chain[i] == "ledger" && faulty ? 40 : 1) * 1_000_000
                duration[i] = own + (i + 1 < chain.count ? duration[i + 1] + 300_000 : 0)
            }
            var parent: UInt64 = 0
            for (i, service) in chain.enumerated() {
                let server = id
                id += 1
                out.append((.span(ObservedSpan(service: service, operation: "handle", pod: "\(service)-0", spanID: server, parentSpanID: parent,
                                               kind: .server, startNanos: base, durationNanos: duration[i])), ms))
                let line = service == "ledger" && faulty ? "ERROR c.l.LedgerService#88 balance lookup timed out after 40 ms"
                                                         : "INFO c.\(service).Handler#12 request handled for account \(step % 97)"
                out.append((.log(RawLog(timeNanos: base + 1, service: service, pod: "\(service)-0", spanID: server, text: line,
                                        codeLocation: String(line.split(separator: " ")[1]), isError: line.hasPrefix("ERROR"))), ms))
                if i + 1 < chain.count {
                    let client = id
                    id += 1
                    out.append((.span(ObservedSpan(service: service, operation: "call", spanID: client, parentSpanID: server, kind: .client,
                                                   startNanos: base, durationNanos: duration[i + 1] + 300_000)), ms))
                    parent = client
                }
            }
        }
        return out
    }

    func testAnInjectedFaultBecomesOneIncidentWithItsCauseFirst() throws {
        let config = AIOpsConfig(redWindow: .seconds(10),
                                 logAnomalies: LogAnomalyConfig(window: .seconds(60), warmupWindows: 3),
                                 rca: RCAConfig(graph: KnowledgeGraphConfig(windowMillis: 60_000, retainedWindows: 60, allowedLatenessMillis: 1_000),
                                                incidents: IncidentConfig(quietMillis: 120_000)))
        let h = StreamTestHarness(of: Telemetry.self) { $0.incidents(config, detect: { $0.detect { EWMADetector() } }) }
        for (t, ms) in Self.workload() {
            try h.send(t, at: ms)
            if ms % 1000 == 0 { try h.watermark(ms - 1) }
        }
        try h.end()
        let reports = h.output
        let opened = reports.filter { $0.change == .opened }
        XCTAssertEqual(opened.count, 1, "\(reports)")
        let closed = try XCTUnwrap(reports.last { $0.change == .closed }, "\(reports)")
        XCTAssertEqual(closed.causes.first?.entity, .service("ledger"), "\(closed)")
        XCTAssertTrue(closed.incident.entities.contains(.service("gateway")), "the callers' RED anomalies are part of it: \(closed.incident.entities)")
        XCTAssertTrue(closed.incident.events.contains { $0.signal == "new_template" || $0.signal == "error_burst" }, "\(closed.incident.events)")
        XCTAssertGreaterThanOrEqual(closed.incident.opened, 720_000)
        XCTAssertTrue(closed.description.contains("c.l.LedgerService#88"), "the report names the line: \(closed)")
    }
}
