import Foundation
import Ingest
import OTLPProto
import VigilTestSupport
import XCTest

/// `vigil logs anomalies` as a user runs it: OTLP logs produced to `vigil broker` (the mock
/// cluster over TCP), the command as a real process, its JSON lines read back.
final class LogsAnomaliesProcessTests: XCTestCase {
    let base: UInt64 = 1_700_000_000_000  // ms, a multiple of the 10 s window

    func request(service: String, records: [(ms: UInt64, severity: Opentelemetry_Proto_Logs_V1_SeverityNumber, body: String)]) -> Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest {
        var name = Opentelemetry_Proto_Common_V1_KeyValue()
        name.key = "service.name"
        name.value.stringValue = service
        var rl = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        rl.resource.attributes = [name]
        var sl = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        sl.logRecords = records.map { r in
            var l = Opentelemetry_Proto_Logs_V1_LogRecord()
            l.timeUnixNano = r.ms * 1_000_000
            l.severityNumber = r.severity
            l.body.stringValue = r.body
            return l
        }
        rl.scopeLogs = [sl]
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        request.resourceLogs = [rl]
        return request
    }

    func testNewTemplatesAndErrorBurstsAreFoundInOTLPLogsFromKafka() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-logs-anomalies-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["otlp_logs:2"], work: work)
        defer { broker.terminate(); broker.waitUntilExit() }

        // Eight 10 s windows of steady traffic for two services; checkout's payments fail in window 6.
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        for w in 0..<8 {
            for service in ["checkout", "cart"] {
                var records = (0..<20).map { i in
                    (base + UInt64(w) * 10_000 + UInt64(i) * 400, Opentelemetry_Proto_Logs_V1_SeverityNumber.info, "GET /\(service)/\(i) served in \(i * 3 % 17) ms")
                }
                if service == "checkout" && w == 6 {
                    records += (0..<40).map { i in (base + 60_000 + UInt64(i) * 200, .error, "payment \(9000 + i) declined: card expired") }
                }
                try producer.produce(topic: "otlp_logs", key: Array(service.utf8), value: try request(service: service, records: records).serializedBytes())
            }
        }
        try producer.produce(topic: "otlp_logs", key: nil, value: Array("not otlp".utf8))
        try producer.flush()

        let output = "\(work)/out"
        let run = try ChildProcesses.startVigil(
            ["logs", "anomalies", "--brokers", brokers, "--stop-at-end", "--window-seconds", "10", "--warmup-windows", "3", "--output", output],
            log: "\(work)/anomalies.log")
        run.waitUntilExit()
        let log = (try? String(contentsOfFile: "\(work)/anomalies.log", encoding: .utf8)) ?? ""
        XCTAssertEqual(run.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("17 messages, 1 dead letters"), log)

        let lines = try String(contentsOfFile: "\(output)/part-0", encoding: .utf8).split(separator: "\n")
        let anomalies = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let summary = anomalies.map { "\($0["kind"]!) \($0["service"]!) \($0["template"] ?? "-") \($0["observed"]!)" }.sorted()
        XCTAssertEqual(summary, [
            "error_burst checkout - 40",
            "new_template checkout payment <*> declined: card expired 1",
        ], "\(lines)")
        let burst = try XCTUnwrap(anomalies.first { $0["kind"] as? String == "error_burst" })
        XCTAssertEqual(burst["window_start"] as? Int, Int(base) + 60_000)
        XCTAssertEqual(burst["window_end"] as? Int, Int(base) + 70_000)
    }

    func testBadOptionsAreRejectedBeforeConnecting() throws {
        let (status, errors) = try ChildProcesses.runVigil(["logs", "anomalies", "--brokers", "127.0.0.1:1", "--window-seconds", "0"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("window must be longer than 0 ms"), errors)
    }
}
