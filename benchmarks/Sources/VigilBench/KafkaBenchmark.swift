import CRdKafka
import Foundation
import Ingest
import OTLPProto
import Stream
import Synchronization

/// The Kafka ingest benchmark (issue "Kafka and OTLP ingest"): 5 million spans in OTLP
/// batches of 512 (realistic attributes) on the embedded broker; (a) a plain librdkafka
/// consume loop over those messages, no decoding, and (b) Vigil's Kafka source decoding them
/// to span records, one source subtask (one core), in the same run, alternating, medians.
/// Both measure from their first message to their last, so group joins are not counted.
func kafkaBenchmark(quick: Bool) throws -> Figures {
    let spans = quick ? 500_000 : 5_000_000
    let batch = 512
    let repetitions = quick ? 1 : 3
    let messages = (spans + batch - 1) / batch
    // A profiling aid: VIGIL_KAFKA_DECODE_PROFILE=N times the decoder alone (no Kafka), N rounds.
    if let rounds = ProcessInfo.processInfo.environment["VIGIL_KAFKA_DECODE_PROFILE"].flatMap(Int.init) {
        var rng = SplitMix64(state: 42)
        let sample = try (0..<100).map { try makeSpanBatch(count: batch, message: $0, rng: &rng) }
        for _ in 0..<rounds { print(String(format: "  decode alone: %.1f ns per span", try decodeAloneNanosPerSpan(sample))) }
        return Figures()
    }
    // The mock cluster keeps at most 5 MB per partition: spread the ~200 KB messages thin.
    let partitions = max(8, messages / 16)
    // An experiment: VIGIL_KAFKA_BROKERS=N spreads the partitions over N mock brokers.
    let brokers = ProcessInfo.processInfo.environment["VIGIL_KAFKA_BROKERS"].flatMap(Int.init) ?? 1
    let cluster = try MockKafkaCluster(brokers: brokers)
    try cluster.createTopic("otlp_spans", partitions: partitions)
    print("kafka benchmark: \(spans) spans in \(messages) OTLP messages of \(batch) spans, \(partitions) partitions, \(brokers) broker(s) (librdkafka mock), median of \(repetitions)")

    let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers, "linger.ms": "20",
                                                  "batch.size": "4000000", "message.max.bytes": "10000000"])
    var totalBytes = 0
    var rng = SplitMix64(state: 42)
    var sample: [[UInt8]] = []  // kept for the decode-alone figure
    let produceSeconds = try time {
        for m in 0..<messages {
            let bytes = try makeSpanBatch(count: min(batch, spans - m * batch), message: m, rng: &rng)
            if sample.count < 100 { sample.append(bytes) }
            totalBytes += bytes.count
            try producer.produce(topic: "otlp_spans", partition: Int32(m % partitions), key: nil, value: bytes)
        }
        try producer.flush()
    }
    print(String(format: "  produced %.0f MB in %.1f s (%.0f bytes per span)", Double(totalBytes) / 1e6, produceSeconds,
                 Double(totalBytes) / Double(spans)))

    // Two raw references: librdkafka's defaults (the plain loop a user would write), and the
    // consumer settings Vigil's source runs with (the same fetching, so only the source and
    // the decoding differ). The goal's ratio is taken against the faster of the two.
    let vigilProperties = vigilSourceProperties()
    let tunedRaw = KafkaProperties.effectiveConsumerProperties(vigilProperties)
    print("  raw loop, tuned: " + tunedRaw.entries.filter { $0.key.hasPrefix("fetch") || $0.key.hasPrefix("queued") }
        .map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    // A profiling aid: VIGIL_KAFKA_PROFILE=N runs Vigil's source and the tuned raw loop, N
    // times each, and prints how each thread of the process spent the run.
    if let runs = ProcessInfo.processInfo.environment["VIGIL_KAFKA_PROFILE"].flatMap(Int.init) {
        for r in 0..<runs {
            let vigilThreads = ThreadTimeSampler()
            let (run, _) = try vigilConsume(brokers: cluster.bootstrapServers, group: "profile-\(r)", properties: vigilProperties)
            print(String(format: "  vigil %.3f s", run.seconds))
            vigilThreads.printThreads(wall: run.seconds)
            let rawThreads = ThreadTimeSampler()
            let rawRun = try rawConsume(brokers: cluster.bootstrapServers, group: "profile-raw-\(r)", messages: messages, properties: tunedRaw)
            print(String(format: "  raw with Vigil's settings %.3f s", rawRun.seconds))
            rawThreads.printThreads(wall: rawRun.seconds)
        }
        return Figures()
    }
    var raw: [Double] = [], rawTuned: [Double] = [], vigil: [Double] = []
    var rawTunedCPU: [Double] = [], vigilCPU: [Double] = []
    for r in 0..<repetitions {
        let rawSeconds = try rawConsume(brokers: cluster.bootstrapServers, group: "raw-\(r)", messages: messages, properties: [:]).seconds
        raw.append(rawSeconds)
        let tuned = try rawConsume(brokers: cluster.bootstrapServers, group: "raw-tuned-\(r)", messages: messages, properties: tunedRaw)
        let tunedSeconds = tuned.seconds
        rawTunedCPU.append(tuned.cpuSeconds)
        rawTuned.append(tunedSeconds)
        let (run, decoded) = try vigilConsume(brokers: cluster.bootstrapServers, group: "vigil-\(r)", properties: vigilProperties)
        let vigilSeconds = run.seconds
        vigilCPU.append(run.cpuSeconds)
        print(String(format: "  (CPU of the process over the timed run, broker included: raw with Vigil's settings %.2f s, vigil %.2f s)",
                     tuned.cpuSeconds, run.cpuSeconds))
        guard decoded == spans else { throw BenchmarkError("Vigil decoded \(decoded) spans, expected \(spans)") }
        vigil.append(vigilSeconds)
        print(String(format: "  run %d: raw %.2f s, raw with Vigil's settings %.2f s, vigil %.2f s", r + 1, rawSeconds, tunedSeconds, vigilSeconds))
    }
    let rawDefaultS = median(raw), rawTunedS = median(rawTuned), vigilS = median(vigil)
    let rawS = min(rawDefaultS, rawTunedS)
    // Vigil's run cannot take less than its CPU (broker included: it shares these cores) spread
    // over every core, so no packing of its threads gets the ratio above this. Both CPU figures
    // cover exactly the timed runs (first message to end), not the group joins before them.
    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
    let ratioCeiling = rawS * cores / median(vigilCPU)
    let decodeNanos = try decodeAloneNanosPerSpan(sample)
    var f = Figures()
    f["decode_alone_ns_per_span"] = decodeNanos
    f["spans"] = Double(spans)
    f["messages"] = Double(messages)
    f["bytes"] = Double(totalBytes)
    f["raw_bytes_per_s"] = Double(totalBytes) / rawS
    f["raw_messages_per_s"] = Double(messages) / rawS
    f["vigil_bytes_per_s"] = Double(totalBytes) / vigilS
    f["vigil_spans_per_s"] = Double(spans) / vigilS
    f["ratio_vs_raw"] = rawS / vigilS
    f["raw_default_bytes_per_s"] = Double(totalBytes) / rawDefaultS
    f["raw_tuned_bytes_per_s"] = Double(totalBytes) / rawTunedS
    f["ratio_vs_raw_default"] = rawDefaultS / vigilS
    f["ratio_vs_raw_tuned"] = rawTunedS / vigilS
    f["raw_tuned_process_cpu_s"] = median(rawTunedCPU)
    f["vigil_process_cpu_s"] = median(vigilCPU)
    f["ratio_ceiling_from_cpu"] = ratioCeiling
    printTable("kafka ingest (medians)", [
        ("raw librdkafka, its defaults", String(format: "%.0f MB/s", f["raw_default_bytes_per_s"]! / 1e6)),
        ("raw librdkafka, Vigil's settings", String(format: "%.0f MB/s", f["raw_tuned_bytes_per_s"]! / 1e6)),
        ("raw, the faster", String(format: "%.0f MB/s, %@ messages", f["raw_bytes_per_s"]! / 1e6, formatRate(f["raw_messages_per_s"]!))),
        ("vigil source + OTLP decode", String(format: "%.0f MB/s, %@ spans", f["vigil_bytes_per_s"]! / 1e6, formatRate(f["vigil_spans_per_s"]!))),
        ("vigil / raw (bytes/s)", String(format: "%.2f (goal >= 0.7; against defaults %.2f, against Vigil's settings %.2f)",
                                         f["ratio_vs_raw"]!, f["ratio_vs_raw_default"]!, f["ratio_vs_raw_tuned"]!)),
        ("ceiling from CPU", String(format: "%.2f (vigil's runs used %.2f CPU-s, broker included: at least %.2f s on %.0f cores; raw %.2f CPU-s)",
                                    ratioCeiling, median(vigilCPU), median(vigilCPU) / cores, cores, median(rawTunedCPU))),
        ("vigil spans/s on one core", String(format: "%.2f M (goal >= 1 M)", f["vigil_spans_per_s"]! / 1e6)),
        ("decode alone (no Kafka)", String(format: "%.0f ns per span, %.2f M spans/s (median of 9 passes)", decodeNanos, 1e3 / decodeNanos)),
    ])
    withExtendedLifetime(cluster) {}
    return f
}

/// `OTLPSpanDecoder` alone over messages in memory: the decoder's share of the source's
/// work, apart from fetching. Nanoseconds per span, median of 9 passes.
func decodeAloneNanosPerSpan(_ messages: [[UInt8]]) throws -> Double {
    var decoder = OTLPSpanDecoder()
    var passes: [Double] = []
    for _ in 0..<9 {
        var count = 0
        let started = monotonicNanos()
        for (i, bytes) in messages.enumerated() {
            try bytes.withUnsafeBytes { value in
                let m = KafkaMessage(topic: "otlp_spans", partition: 0, offset: Int64(i), timestamp: nil, key: nil, value: value)
                try decoder.decode(m) { _, _ in count += 1 }
            }
        }
        guard count > 0 else { throw BenchmarkError("the decode-alone sample holds no spans") }
        passes.append(Double(monotonicNanos() - started) / Double(count))
    }
    return median(passes)
}

/// A plain consume loop: poll, add up the payload length, destroy. Seconds from the first
/// message to the last. `properties`: librdkafka's defaults, or the settings Vigil's
/// source runs with (to compare like with like).
func rawConsume(brokers: String, group: String, messages: Int, properties: KafkaProperties) throws -> ConsumeTiming {
    var props = properties
    props["bootstrap.servers"] = brokers
    props["group.id"] = group
    props["auto.offset.reset"] = "earliest"
    props["enable.auto.commit"] = "false"
    var errstr = [CChar](repeating: 0, count: 512)
    let conf = try props.makeConf()
    guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else { throw BenchmarkError(String(cString: errstr)) }
    defer { rd_kafka_consumer_close(rk); rd_kafka_destroy(rk) }
    rd_kafka_poll_set_consumer(rk)
    let topics = rd_kafka_topic_partition_list_new(1)!
    rd_kafka_topic_partition_list_add(topics, "otlp_spans", -1)
    rd_kafka_subscribe(rk, topics)
    rd_kafka_topic_partition_list_destroy(topics)
    var count = 0, bytes = 0
    var first: UInt64 = 0, firstCPU = 0.0
    while count < messages {
        guard let m = rd_kafka_consumer_poll(rk, 100) else { continue }
        if m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            if count == 0 { first = monotonicNanos(); firstCPU = processCPUSeconds() }
            count += 1
            bytes += m.pointee.len
        }
        rd_kafka_message_destroy(m)
    }
    precondition(bytes > 0)
    return ConsumeTiming(seconds: Double(monotonicNanos() - first) / 1e9, cpuSeconds: processCPUSeconds() - firstCPU)
}

/// A consuming run, from its first message to its end: wall time, and the CPU the whole
/// process (the in-process broker included) used meanwhile.
struct ConsumeTiming {
    var seconds: Double
    var cpuSeconds: Double
}

/// Consumer properties for the Vigil source from `VIGIL_KAFKA_PROPS="key=value,..."`
/// (experiments); the raw loop "with Vigil's settings" gets them too.
func vigilSourceProperties() -> KafkaProperties {
    var properties: KafkaProperties = [:]
    for kv in (ProcessInfo.processInfo.environment["VIGIL_KAFKA_PROPS"] ?? "").split(separator: ",") {
        let p = kv.split(separator: "=", maxSplits: 1)
        if p.count == 2 { properties[String(p[0])] = String(p[1]) }
    }
    return properties
}

/// When the first message reached the decoder, and the process's CPU time then.
final class FirstMessageClock: Sendable {
    let nanos = Atomic<UInt64>(0)
    let cpuNanos = Atomic<UInt64>(0)
}

struct TimedSpanDecoder: KafkaMessageDecoder {
    var inner = OTLPSpanDecoder()
    let clock: FirstMessageClock
    mutating func decode(_ message: KafkaMessage, emit: (SpanRecord, Timestamp) throws -> Void) throws {
        if clock.nanos.load(ordering: .relaxed) == 0 {
            clock.cpuNanos.store(UInt64(processCPUSeconds() * 1e9), ordering: .relaxed)
            clock.nanos.store(monotonicNanos(), ordering: .relaxed)
        }
        try inner.decode(message, emit: emit)
    }
}

/// Vigil's Kafka source with the OTLP span decoder, one subtask, into a counting sink.
/// Timed from the first message decoded to the end of the job; the spans decoded.
func vigilConsume(brokers: String, group: String, properties: KafkaProperties) throws -> (ConsumeTiming, Int) {
    let env = StreamEnvironment(name: "kafka-benchmark", parallelism: 1)
    var options = KafkaSourceOptions(brokers: brokers, topics: ["otlp_spans"], groupID: group)
    options.boundedness = .untilEndOfPartitions
    options.deadLetterTopic = nil
    options.properties = options.properties.merging(properties)
    let clock = FirstMessageClock()
    let counter = env.kafkaSource(options) { TimedSpanDecoder(clock: clock) }.discard()
    let result = try env.execute()
    let seconds = Double(monotonicNanos() - clock.nanos.load(ordering: .relaxed)) / 1e9
    let cpu = processCPUSeconds() - Double(clock.cpuNanos.load(ordering: .relaxed)) / 1e9
    let sourceCPU = result.metrics.tasks.reduce(0.0) { $0 + Double($1.cpuNanos) } / 1e9
    print(String(format: "  (vigil source thread: %.2f s of CPU in %.2f s)", sourceCPU, seconds))
    return (ConsumeTiming(seconds: seconds, cpuSeconds: cpu), counter.count)
}

/// One OTLP ExportTraceServiceRequest of `count` server/client spans of a checkout service:
/// ~10 attributes each (method, route, status, peer, db…), ids unique per span.
func makeSpanBatch(count: Int, message: Int, rng: inout SplitMix64) throws -> [UInt8] {
    typealias KV = Opentelemetry_Proto_Common_V1_KeyValue
    func kv(_ k: String, _ s: String) -> KV { var a = KV(); a.key = k; a.value.stringValue = s; return a }
    func kv(_ k: String, _ i: Int64) -> KV { var a = KV(); a.key = k; a.value.intValue = i; return a }
    let services = ["checkout", "cart", "payment", "shipping", "frontend", "currency", "email", "ad"]
    let routes = ["/api/cart/{id}", "/api/checkout", "/api/products/{id}", "/api/payment", "/api/shipping/quote"]
    var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
    var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
    let service = services[message % services.count]
    rs.resource.attributes = [kv("service.name", service), kv("service.version", "2.3.\(message % 7)"),
                              kv("host.name", "node-\(message % 13)"), kv("k8s.pod.name", "\(service)-7d9f8-\(message % 5)"),
                              kv("deployment.environment", "production")]
    var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
    ss.scope.name = "io.opentelemetry.http"
    ss.scope.version = "1.32.0"
    let base: UInt64 = 1_795_600_000_000_000_000 + UInt64(message) * 1_000_000
    ss.spans.reserveCapacity(count)
    for i in 0..<count {
        var s = Opentelemetry_Proto_Trace_V1_Span()
        var trace = [UInt8](repeating: 0, count: 16), span = [UInt8](repeating: 0, count: 8), parent = [UInt8](repeating: 0, count: 8)
        for j in 0..<16 { trace[j] = UInt8(truncatingIfNeeded: rng.next()) }
        for j in 0..<8 { span[j] = UInt8(truncatingIfNeeded: rng.next()); parent[j] = UInt8(truncatingIfNeeded: rng.next()) }
        s.traceID = Data(trace)
        s.spanID = Data(span)
        s.parentSpanID = Data(parent)
        let route = routes[i % routes.count]
        let server = i % 2 == 0
        s.name = server ? "GET \(route)" : "SELECT orders"
        s.kind = server ? .server : .client
        s.startTimeUnixNano = base + UInt64(i) * 1_000
        s.endTimeUnixNano = s.startTimeUnixNano + 1_000_000 + (rng.next() % 50_000_000)
        let status = [200, 200, 200, 201, 404, 500][Int(rng.next() % 6)]
        s.attributes = server
            ? [kv("http.request.method", "GET"), kv("http.route", route), kv("http.response.status_code", Int64(status)),
               kv("url.scheme", "https"), kv("server.address", "\(service).svc.cluster.local"), kv("server.port", 8080),
               kv("network.protocol.version", "1.1"), kv("client.address", "10.1.\(i % 250).\(message % 250)"),
               kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"), kv("http.request.body.size", Int64(i % 4096))]
            : [kv("db.system.name", "postgresql"), kv("db.namespace", "orders"), kv("db.operation.name", "SELECT"),
               kv("db.collection.name", "orders"), kv("db.query.text", "SELECT * FROM orders WHERE id = $1"),
               kv("server.address", "orders-db.svc.cluster.local"), kv("server.port", 5432),
               kv("network.peer.address", "10.2.0.\(i % 250)"), kv("db.response.returned_rows", Int64(i % 50)),
               kv("thread.name", "pool-2-thread-\(i % 16)")]
        if status >= 500 { s.status.code = .error; s.status.message = "upstream failed" }
        ss.spans.append(s)
    }
    rs.scopeSpans = [ss]
    request.resourceSpans = [rs]
    return try request.serializedBytes()
}

/// User + system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
