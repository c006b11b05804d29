import CRdKafka
import Foundation
import Ingest
import Stream

/// Scale-out: `vigil window-count` (a keyed event-time window job whose key is not the input's
/// partitioning, so every record crosses the repartition topic) run as 1 and as 2 processes
/// against one mock broker in this process, all on this machine's cores; and the failover
/// time when one of two processes is killed (-9) with the default session timeout and with
/// the 6 s that stock brokers require at least.
///
/// Throughput: the processes are started on an empty input and given time to take their
/// partitions; then the input is produced at once and the clock runs until the last window
/// is emitted (processing), and on until the output's windows, read back, have counted every
/// event (visible: one more commit).
func scaleoutBenchmark(quick: Bool) throws -> Figures {
    let vigil = try vigilExecutable()
    let cluster = try MockKafkaCluster(brokers: 1)
    // 100 events per message. The mock keeps about 5 MB per partition (2,000,000 events make
    // 3.4 MB per input partition) and drops older records.
    let events = quick ? 1_000_000 : 2_000_000
    let rounds = quick ? 1 : 5
    var one: [Double] = [], two: [Double] = [], failover: [Double] = []
    var oneVisible: [Double] = [], twoVisible: [Double] = []
    for r in 0..<rounds {
        for n in [1, 2] {
            let t = try ScaleOutRun(vigil: vigil, cluster: cluster, name: "sb\(n)p\(r)", processes: n).throughput(events: events)
            print(String(format: "  round %d, %d process%@: %@ events/s processed, %@ visible (CPU: job %.2f s, broker and producer %.2f s)",
                         r + 1, n, n == 1 ? "" : "es", formatRate(t.processed), formatRate(t.visible), t.jobCPU, t.benchCPU))
            if n == 1 { one.append(t.processed); oneVisible.append(t.visible) } else { two.append(t.processed); twoVisible.append(t.visible) }
        }
    }
    // The default session timeout (the job asks for 3 s, the shortest step; the mock cluster
    // has no lower bound), then 6 s: what stock brokers accept at least
    // (group.min.session.timeout.ms), where the job ends up after one refused join.
    var failoverSix: [Double] = []
    for r in 0..<min(rounds, 3) {
        let s = try ScaleOutRun(vigil: vigil, cluster: cluster, name: "sbfo\(r)", processes: 2).failover(events: events / 4)
        print(String(format: "  failover %d: %.2f s", r + 1, s))
        failover.append(s)
        let six = ScaleOutRun(vigil: vigil, cluster: cluster, name: "sbf6\(r)", processes: 2,
                              extraArguments: ["--property", "session.timeout.ms=6000"])
        let t = try six.failover(events: events / 4)
        print(String(format: "  failover %d, session timeout 6 s: %.2f s", r + 1, t))
        failoverSix.append(t)
    }
    var f = Figures()
    f["events"] = Double(events)
    f["events_per_s_1proc"] = median(one)
    f["events_per_s_2proc"] = median(two)
    f["ratio_2proc_vs_1proc"] = median(two) / median(one)
    f["visible_events_per_s_1proc"] = median(oneVisible)
    f["visible_events_per_s_2proc"] = median(twoVisible)
    f["failover_s"] = median(failover)
    f["failover_s_max"] = failover.max() ?? 0
    f["failover_s_session_6s"] = median(failoverSix)
    f["ratio_2proc_vs_1proc_per_round_min"] = zip(two, one).map { $0 / $1 }.min() ?? 0
    f["cores"] = Double(ProcessInfo.processInfo.activeProcessorCount)
    printTable("Scale-out (vigil window-count, mock broker in the bench process)", [
        ("1 process", "\(formatRate(median(one))) events/s processed (median of \(one.count)); \(formatRate(median(oneVisible))) visible"),
        ("2 processes", "\(formatRate(median(two))) events/s processed; \(formatRate(median(twoVisible))) visible"),
        ("2 processes / 1 process", String(format: "%.2f (goal >= 1.5) on %d cores", median(two) / median(one), ProcessInfo.processInfo.activeProcessorCount)),
        ("  lowest of the rounds", String(format: "%.2f", zip(two, one).map { $0 / $1 }.min() ?? 0)),
        ("  visible output, 2 / 1", String(format: "%.2f (each run waits up to one 1 s commit interval)", median(twoVisible) / median(oneVisible))),
        ("failover (kill -9 to partitions taken)", String(format: "%.2f s median, %.2f s max (goal <= 10 s), default session timeout (3 s on this cluster)", median(failover), failover.max() ?? 0)),
        ("  with session.timeout.ms=6000", String(format: "%.2f s median", median(failoverSix))),
    ])
    return f
}

/// `vigil` beside this benchmark's executable (benchmarks/run builds both).
func vigilExecutable() throws -> String {
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let path = me.deletingLastPathComponent().appendingPathComponent("vigil").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw BenchmarkError("no vigil at \(path): build it (swift build -c release --product vigil)")
    }
    return path
}

/// One job (its own group and topics) run by `processes` processes.
struct ScaleOutRun {
    let vigil: String
    let cluster: MockKafkaCluster
    let name: String
    let processes: Int
    var extraArguments: [String] = []
    /// For experiments: VIGIL_SCALEOUT_ARGS (split at spaces) goes to every process.
    var experimentArguments: [String] { (ProcessInfo.processInfo.environment["VIGIL_SCALEOUT_ARGS"] ?? "").split(separator: " ").map(String.init) }
    /// Input partitions (the mock keeps at most 100,000 messages each) and stateful ones.
    let inputPartitions = 16
    let partitions = 8
    let keys = 200
    let windowMs: Int64 = 10_000
    let eventsPerMessage = 100
    let baseTime: Int64 = 1_700_000_000_000
    var work: String { FileManager.default.temporaryDirectory.appendingPathComponent("vigil-scaleout-bench-\(name)-\(getpid())").path }
    var input: String { "\(name)-in" }
    var output: String { "\(name)-out" }

    func start(_ i: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: vigil)
        p.arguments = ["window-count", "--brokers", cluster.bootstrapServers, "--input", input, "--output", output,
                       "--group", name, "--state", work + "/state-\(i)", "--repartition-partitions", String(partitions),
                       "--window-ms", String(windowMs)] + experimentArguments + extraArguments
        _ = FileManager.default.createFile(atPath: log(i), contents: nil)
        p.standardError = FileHandle(forWritingAtPath: log(i))
        _ = FileManager.default.createFile(atPath: log(i) + ".out", contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: log(i) + ".out")  // the summary at stop
        try p.run()
        return p
    }

    func log(_ i: Int) -> String { work + "/log-\(i)" }
    func logText(_ i: Int) -> String { (try? String(contentsOfFile: log(i), encoding: .utf8)) ?? "" }

    /// Partitions of `topic` a process holds now, from its log: the input stage's latest
    /// "reads TOPIC[0,1,…]" line; the stateful stage's "took TOPIC[n]" lines minus those
    /// revoked or lost since.
    func owned(_ text: String, topic: String) -> Set<Int> {
        var set = Set<Int>()
        for line in text.split(separator: "\n") {
            if let r = line.range(of: " reads \(topic)[") {
                set = Set(line[r.upperBound...].prefix { $0 != "]" }.split(separator: ",").compactMap { Int($0) })
                continue
            }
            let adds = line.contains(" took ")
            let removes = line.contains(" revoked ") || line.contains(" lost ")
            guard adds || removes else { continue }
            var rest = line[...]
            while let r = rest.range(of: topic + "[") {
                let digits = rest[r.upperBound...].prefix { $0.isNumber }
                if let n = Int(digits) { if adds { set.insert(n) } else { set.remove(n) } }
                rest = rest[r.upperBound...]
            }
        }
        return set
    }

    /// Every partition of both stages is held by some process, and the processes hold equal
    /// shares (the group has settled: cooperative rebalancing moves partitions in rounds).
    func everyPartitionTaken(_ running: [Int]) -> Bool {
        let texts = running.map { logText($0) }
        for (topic, n) in [(input, inputPartitions), ("\(name)-repartition", partitions)] {
            let sets = texts.map { owned($0, topic: topic) }
            if sets.contains(where: { $0.count != n / running.count }) || sets.reduce(Set<Int>(), { $0.union($1) }).count < n { return false }
        }
        return true
    }

    func waitUntil(_ timeout: Double, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { throw BenchmarkError("\(name): \(what) within \(timeout) s (logs in \(work))") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    func setUp() throws -> [Process] {
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try cluster.createTopic(input, partitions: inputPartitions)
        for t in [output, "\(name)-repartition", "\(name)-changelog"] { try cluster.createTopic(t, partitions: partitions) }
        let ps = try (0..<processes).map { try start($0) }
        do {
            try waitUntil(60, "the processes did not take every partition") { everyPartitionTaken(Array(0..<processes)) }
        } catch {
            for p in ps { kill(p.processIdentifier, SIGKILL) }
            throw error
        }
        Thread.sleep(forTimeInterval: 1)  // let the group settle
        return ps
    }

    /// Events of `range`, 100 per message (lines, as OTLP messages carry batches), each
    /// message for the input partition of its first event; with `closers`, one late event per
    /// partition that moves every watermark past the last window. Built before the clock
    /// starts: formatting 2 M events costs this process about as much CPU as producing them,
    /// and on two shared cores that would be charged to whichever run is being measured.
    func messages(_ range: Range<Int>, closers: Bool) -> [(partition: Int32, value: [UInt8])] {
        var out: [(partition: Int32, value: [UInt8])] = []
        var seq = range.lowerBound
        var partition: Int32 = 0
        while seq < range.upperBound {
            let end = min(range.upperBound, seq + eventsPerMessage)
            let lines = (seq..<end).map { "\($0) k\($0 % keys) \(baseTime + Int64($0))" }.joined(separator: "\n")
            out.append((partition, Array(lines.utf8)))
            partition = (partition + 1) % Int32(inputPartitions)
            seq = end
        }
        if closers {
            for p in 0..<Int32(inputPartitions) {
                out.append((p, Array("0 closer \(baseTime + Int64(range.upperBound) + 3_600_000)".utf8)))
            }
        }
        return out
    }

    func produce(_ messages: [(partition: Int32, value: [UInt8])]) throws {
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers).merging(["linger.ms": "20"]))
        for m in messages { try producer.produce(topic: input, partition: m.partition, key: nil, value: m.value) }
        try producer.flush()
    }

    /// Events per second from the moment the input starts to be produced: (1) to the moment
    /// the last window is emitted by a stateful partition (processing), and (2) to the moment
    /// every window is visible in the output, which waits for the next commit: up to one commit
    /// interval (1 s) more, so in a run of a few seconds that figure moves by a third
    /// depending on where the commits fall. Also the CPU seconds the job's processes and this
    /// one (broker and producer) used meanwhile.
    func throughput(events: Int) throws -> (processed: Double, visible: Double, jobCPU: Double, benchCPU: Double) {
        let ps = try setUp()
        defer { stop(ps) }
        let counter = try OutputCounter(brokers: cluster.bootstrapServers, topic: output, partitions: partitions)
        let inputMessages = messages(0..<events, closers: true)
        let cpuBefore = ps.map { processCPUSeconds(pid: $0.processIdentifier) }.reduce(0, +)
        let benchBefore = processCPUSeconds()
        let start = monotonicNanos()
        try produce(inputMessages)
        try waitUntil(600, "the output did not count every event") { counter.recordsCounted() >= events }
        let visible = Double(monotonicNanos() - start) / 1e9
        let cpu = ps.map { processCPUSeconds(pid: $0.processIdentifier) }.reduce(0, +) - cpuBefore
        let bench = processCPUSeconds() - benchBefore
        for p in ps { kill(p.processIdentifier, SIGTERM) }
        for p in ps { p.waitUntilExit() }
        // Each process prints, as it stops, when it last emitted output (monotonic clock).
        let lastEmitted = (0..<processes).compactMap { i -> UInt64? in
            let text = (try? String(contentsOfFile: log(i) + ".out", encoding: .utf8)) ?? ""
            guard let r = text.range(of: "last output emitted at ") else { return nil }
            return UInt64(text[r.upperBound...].prefix { $0.isNumber })
        }.max() ?? 0
        guard lastEmitted > start else { throw BenchmarkError("\(name): no process said when it last emitted output (logs in \(work))") }
        let processed = Double(lastEmitted - start) / 1e9
        return (Double(events) / processed, Double(events) / visible, cpu, bench)
    }

    /// Seconds from kill -9 of one of two processes until the other holds every partition of
    /// both stages (its state restored: a stateful partition is logged as taken after that).
    func failover(events: Int) throws -> Double {
        let ps = try setUp()
        defer { stop(ps) }
        try produce(messages(0..<events, closers: false))
        let counter = try OutputCounter(brokers: cluster.bootstrapServers, topic: output, partitions: partitions)
        try waitUntil(120, "no output") { counter.recordsCounted() > 0 }
        kill(ps[1].processIdentifier, SIGKILL)
        let killed = Date()
        ps[1].waitUntilExit()
        try waitUntil(60, "the survivor did not take over") {
            let text = logText(0)
            return owned(text, topic: input).count == inputPartitions && owned(text, topic: "\(name)-repartition").count == partitions
        }
        return Date().timeIntervalSince(killed)
    }

    func stop(_ ps: [Process]) {
        for p in ps where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        for p in ps { p.waitUntilExit() }
        // VIGIL_SCALEOUT_KEEP=1 keeps the processes' logs (and state) for a look afterwards.
        if ProcessInfo.processInfo.environment["VIGIL_SCALEOUT_KEEP"] == nil { try? FileManager.default.removeItem(atPath: work) }
    }
}

/// Reads the output topic (from its beginning) on demand: the records its windows counted
/// ("... count=N ..."), over every window seen so far.
final class OutputCounter {
    private let rk: OpaquePointer
    private var total = 0

    init(brokers: String, topic: String, partitions: Int) throws {
        var props = KafkaProperties(brokers: brokers)
        props["group.id"] = "bench-output-counter"
        props["fetch.wait.max.ms"] = "10"
        let conf = try props.makeConf()
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            throw BenchmarkError("cannot create a consumer: " + String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.rk = rk
        rd_kafka_poll_set_consumer(rk)
        let list = rd_kafka_topic_partition_list_new(Int32(partitions))!
        for p in 0..<partitions { rd_kafka_topic_partition_list_add(list, topic, Int32(p)).pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING) }
        rd_kafka_assign(rk, list)
        rd_kafka_topic_partition_list_destroy(list)
    }

    deinit {
        rd_kafka_destroy_flags(rk, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
    }

    func recordsCounted() -> Int {
        while let m = rd_kafka_consumer_poll(rk, 0) {
            defer { rd_kafka_message_destroy(m) }
            guard m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let text = String(decoding: UnsafeRawBufferPointer(start: m.pointee.payload, count: m.pointee.len), as: UTF8.self)
            if let r = text.range(of: "count="), let n = Int(text[r.upperBound...].prefix { $0.isNumber }) { total += n }
        }
        return total
    }
}

/// CPU seconds (user and system) a process used so far, from /proc (0 if it is gone). Read
/// with stdio: Foundation reads nothing from /proc files (they report a size of 0).
func processCPUSeconds(pid: Int32) -> Double {
    guard let f = fopen("/proc/\(pid)/stat", "r") else { return 0 }
    defer { fclose(f) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = fread(&buffer, 1, buffer.count, f)
    let text = String(decoding: buffer[..<n], as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
