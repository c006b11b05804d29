import Foundation
import Ingest
import OTLPProto
import Stream
import VigilTestSupport
import XCTest

/// The README's Kafka example, run against the mock cluster: OTLP spans in, one line per server
/// span out through the exactly-once sink.
final class ReadmeKafkaExampleTests: XCTestCase {
    func testTheReadmeKafkaExampleRuns() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        for (topic, partitions) in [(OTLPTopics.spans, 2), ("checkout-latency", 1), ("vigil_transaction_markers", 1), ("vigil_dead_letters", 1)] {
            try cluster.createTopic(topic, partitions: partitions)
        }
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        var service = Opentelemetry_Proto_Common_V1_KeyValue()
        service.key = "service.name"
        service.value.stringValue = "checkout"
        rs.resource.attributes = [service]
        var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        for (i, kind) in [Opentelemetry_Proto_Trace_V1_Span.SpanKind.server, .client, .server].enumerated() {
            var s = Opentelemetry_Proto_Trace_V1_Span()
            s.traceID = Data(repeating: UInt8(i + 1), count: 16)
            s.spanID = Data(repeating: UInt8(i + 1), count: 8)
            s.name = "GET /cart"
            s.kind = kind
            s.startTimeUnixNano = 1_700_000_000_000_000_000
            s.endTimeUnixNano = s.startTimeUnixNano + UInt64(i + 1) * 1_000_000
            ss.spans.append(s)
        }
        rs.scopeSpans = [ss]
        request.resourceSpans = [rs]
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        try producer.produce(topic: OTLPTopics.spans, key: nil, value: try request.serializedBytes())
        try producer.flush()

        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-readme-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let env = StreamEnvironment(name: "readme-kafka", parallelism: 1)
        // From here on, the README's example (brokers, group and staging directory adapted).
        var source = KafkaSourceOptions(brokers: cluster.bootstrapServers, topics: [OTLPTopics.spans], groupID: "vigil")
        source.outOfOrderness = .seconds(2)
        source.boundedness = .untilEndOfPartitions  // not in the README: lets the test end
        var sink = KafkaSinkOptions(brokers: cluster.bootstrapServers, topic: "checkout-latency")
        sink.guarantee = .exactlyOnce
        sink.stagingDirectory = staging
        env.kafkaSource(source) { OTLPSpanDecoder(encoding: .proto) }
            .filter { $0.kind == .server }
            .map { "\($0.origin.serviceName) \($0.name) \($0.durationNanos)" }
            .sinkToKafka(sink) { KafkaOutputRecord(value: Array($0.utf8)) }
        _ = try env.execute()

        let lines = try ChildProcesses.kcatReadCommittedByMarkers(brokers: cluster.bootstrapServers, topic: "checkout-latency")
        XCTAssertEqual(lines.sorted(), ["checkout GET /cart 1000000", "checkout GET /cart 3000000"])

        // Run again, afresh (another group, so it reads the spans again): its output is new
        // output, not taken for the first run's by the transaction markers.
        source.groupID = "vigil-again"
        let again = StreamEnvironment(name: "readme-kafka", parallelism: 1)
        again.kafkaSource(source) { OTLPSpanDecoder(encoding: .proto) }
            .filter { $0.kind == .server }
            .map { "\($0.origin.serviceName) \($0.name) \($0.durationNanos)" }
            .sinkToKafka(sink) { KafkaOutputRecord(value: Array($0.utf8)) }
        _ = try again.execute()
        XCTAssertEqual(try ChildProcesses.kcatReadCommittedByMarkers(brokers: cluster.bootstrapServers, topic: "checkout-latency").count, 4,
                       "the second run's output was committed too")
    }
}
