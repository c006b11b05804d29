import Foundation
import Ingest
import OTLPProto
import VigilTestSupport
import XCTest

/// `vigil red` as a user runs it: OTLP spans produced to `vigil broker`, the command as a real
/// process, its JSON lines read back.
final class REDProcessTests: XCTestCase {
    let base: UInt64 = 1_700_000_000_000  // ms, a multiple of the 10 s window

    func request(service: String, spans: [(startMs: UInt64, durationMs: UInt64, error: Bool)]) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var name = Opentelemetry_Proto_Common_V1_KeyValue()
        name.key = "service.name"
        name.value.stringValue = service
        var route = Opentelemetry_Proto_Common_V1_KeyValue()
        route.key = "http.route"
        route.value.stringValue = "/cart/{id}"
        var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        rs.resource.attributes = [name]
        var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        ss.spans = spans.enumerated().map { i, s in
            var span = Opentelemetry_Proto_Trace_V1_Span()
            span.traceID = Data((0..<16).map { UInt8(truncatingIfNeeded: $0 + i) })
            span.spanID = Data((0..<8).map { UInt8(truncatingIfNeeded: $0 * 3 + i + 1) })
            span.name = "POST /cart/42"
            span.kind = .server
            span.attributes = [route]
            span.startTimeUnixNano = s.startMs * 1_000_000
            span.endTimeUnixNano = (s.startMs + s.durationMs) * 1_000_000
            if s.error { span.status.code = .error }
            return span
        }
        rs.scopeSpans = [ss]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [rs]
        return request
    }

    func testALatencyJumpIsFoundInREDMetricsFromOTLPSpans() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-red-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // One partition: the straggler must be late whatever order the consumer reads in. With
        // two, the watermark is the slower partition's, and when the consumer read checkout's
        // partition (straggler included) before cart's had advanced, the straggler was on time
        // (a CI run saw exactly that).
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["otlp_spans:1"], work: work)
        defer { broker.terminate(); broker.waitUntilExit() }

        // 80 windows of 10 s: 20 calls per window, 10–29 ms; in window 70 checkout's calls take
        // 300 ms. "cart" stays steady throughout.
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        for w in 0..<80 {
            for service in ["checkout", "cart"] {
                let spans = (0..<20).map { i in
                    (base + UInt64(w) * 10_000 + UInt64(i) * 400, UInt64(service == "checkout" && w == 70 ? 300 : 10 + (i * 7 + w) % 20), false)
                }
                try producer.produce(topic: "otlp_spans", key: Array(service.utf8), value: try request(service: service, spans: spans).serializedBytes())
            }
        }
        // A straggler: a span that started in window 5, produced after everything else. Its
        // window closed long ago; it must be reported, not silently dropped.
        try producer.produce(topic: "otlp_spans", key: Array("checkout".utf8),
                             value: try request(service: "checkout", spans: [(base + 50_000, 12, false)]).serializedBytes())
        try producer.flush()

        let output = "\(work)/out"
        let run = try ChildProcesses.startVigil(
            ["red", "--brokers", brokers, "--stop-at-end", "--window-seconds", "10", "--detector", "mad", "--metrics", "--output", output],
            log: "\(work)/red.log")
        run.waitUntilExit()
        let log = (try? String(contentsOfFile: "\(work)/red.log", encoding: .utf8)) ?? ""
        XCTAssertEqual(run.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("161 messages, 0 dead letters"), log)

        let lines = try String(contentsOfFile: "\(output)/part-0", encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let red = objects.filter { $0["kind"] as? String == "red" }
        XCTAssertEqual(red.count, 160, "one RED line per service operation per window")
        let window70 = try XCTUnwrap(red.first { $0["service"] as? String == "checkout" && $0["window_start"] as? Int == Int(base) + 700_000 })
        XCTAssertEqual(window70["operation"] as? String, "/cart/{id}", "the route, not the span name")
        XCTAssertEqual(window70["requests"] as? Int, 20)
        XCTAssertEqual(window70["p99"] as! Double, 300, accuracy: 3)

        let late = objects.filter { $0["kind"] as? String == "late_span" }
        XCTAssertEqual(late.map { "\($0["service"]!) \($0["start_time"]!)" }, ["checkout \(base + 50_000)"])
        let anomalies = objects.filter { $0["kind"] as? String == "anomaly" }.map { "\($0["series"]!) \($0["time"]!)" }
        XCTAssertEqual(anomalies, ["checkout /cart/{id} p99_ms \(base + 710_000)"], "\(objects.filter { $0["kind"] as? String == "anomaly" })")
    }
}
