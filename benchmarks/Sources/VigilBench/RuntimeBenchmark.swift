import Foundation
import Stream

/// The runtime benchmark (issue "The dataflow runtime"): 10 M events over 10,000 service ids,
/// +1 ms of event time per event with up to 1 s of disorder, a 10 s tumbling event-time window
/// per key computing count / mean / max, results to a null sink. Vigil at parallelism 1 and 2
/// against a hand-written loop over the same pre-generated events, in the same run.
struct LatencyEvent: Sendable {
    var service: Int
    var latency: Float
    var timestamp: Int64
}

/// count / mean / max of latency.
struct LatencyStats: Sendable, Equatable {
    var count: Int = 0
    var sum: Double = 0
    var max: Float = -.infinity
    var mean: Double { sum / Double(count) }
}

struct LatencyAggregate: AggregateFunction {
    func makeAccumulator() -> LatencyStats { LatencyStats() }
    func add(_ e: LatencyEvent, to s: inout LatencyStats) {
        s.count += 1
        s.sum += Double(e.latency)
        if e.latency > s.max { s.max = e.latency }
    }
    func merge(_ o: LatencyStats, into s: inout LatencyStats) {
        s.count += o.count
        s.sum += o.sum
        s.max = Swift.max(s.max, o.max)
    }
    func result(_ s: LatencyStats) -> LatencyStats { s }
}

/// Counts results and folds them into a checksum so nothing is optimised away.
struct ChecksumWriter: SinkWriter {
    let total: ResultTotals
    var count = 0
    var checksum = 0.0
    mutating func write(_ r: WindowResult<Int, LatencyStats>, timestamp: Timestamp) throws {
        count += 1
        checksum += Double(r.value.count) + r.value.mean
    }
    mutating func finish() throws { total.add(count: count, checksum: checksum) }
}

final class ResultTotals: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var count = 0
    private(set) var checksum = 0.0
    func add(count: Int, checksum: Double) {
        lock.lock(); defer { lock.unlock() }
        self.count += count
        self.checksum += checksum
    }
}

let windowSize: Int64 = 10_000
let disorder: Int64 = 1_000

func makeLatencyEvents(count: Int, keys: Int) -> [LatencyEvent] {
    var rng = SplitMix64(state: 42)
    var events = [LatencyEvent]()
    events.reserveCapacity(count)
    for i in 0..<count {
        let jitter = Int64(rng.next() % UInt64(disorder + 1))
        events.append(LatencyEvent(service: Int(rng.next() % UInt64(keys)),
                                   latency: Float(rng.next() % 10_000) / 10,
                                   timestamp: Int64(i) + disorder - jitter))
    }
    return events
}

/// The hand-written reference: one loop, a dictionary of per-key aggregates per open window,
/// the same watermark rule (max timestamp - bound - 1), windows emitted when it passes them.
func referenceLoop(_ events: [LatencyEvent]) -> (count: Int, checksum: Double) {
    var open: [Int64: [Int: LatencyStats]] = [:]
    var maxTimestamp = Int64.min
    var emittedUpTo = Int64.min  // watermark at the last check
    var count = 0
    var checksum = 0.0
    func emit(_ windows: [Int: LatencyStats]) {
        for (_, s) in windows { count += 1; checksum += Double(s.count) + s.mean }
    }
    for (i, e) in events.enumerated() {
        let start = e.timestamp - ((e.timestamp % windowSize) + windowSize) % windowSize
        open[start + windowSize, default: [:]][e.service, default: LatencyStats()].add(e)
        if e.timestamp > maxTimestamp { maxTimestamp = e.timestamp }
        // Check the watermark as often as the runtime emits it (once per 1024 records).
        if i & 1023 == 1023 {
            let watermark = maxTimestamp - disorder - 1
            if watermark > emittedUpTo {
                emittedUpTo = watermark
                for end in open.keys where end - 1 <= watermark { emit(open.removeValue(forKey: end)!) }
            }
        }
    }
    for end in open.keys.sorted() { emit(open[end]!) }
    return (count, checksum)
}

extension LatencyStats {
    mutating func add(_ e: LatencyEvent) {
        count += 1
        sum += Double(e.latency)
        if e.latency > max { max = e.latency }
    }
}

func runVigil(_ events: [LatencyEvent], parallelism: Int, threading: ThreadingModel = .threadPerTask) throws
    -> (seconds: Double, totals: ResultTotals, metrics: JobMetrics)
{
    let env = StreamEnvironment(name: "runtime-benchmark", parallelism: parallelism)
    env.threading = threading
    // Experiments: VIGIL_EXCHANGE="BATCH,CHANNEL" sets the exchange's batch size and channel capacity.
    if let spec = ProcessInfo.processInfo.environment["VIGIL_EXCHANGE"]?.split(separator: ",").compactMap({ Int($0) }), spec.count == 2 {
        env.exchange = ExchangeConfig(batchSize: spec[0], channelCapacity: spec[1])
    }
    let totals = ResultTotals()
    // Watermark alignment keeps the two splits within one window of each other: without it a
    // split that gets ahead stays ahead, and the windows of both times stay open (one run in
    // four kept ~200 windows open instead of 2, at half the speed). Results are identical.
    let drift = ProcessInfo.processInfo.environment["VIGIL_DRIFT"].flatMap(Int64.init) ?? windowSize
    var watermarks = WatermarkStrategy<LatencyEvent>.boundedOutOfOrderness(.milliseconds(disorder)) { $0.timestamp }
    if drift > 0 { watermarks = watermarks.withWatermarkAlignment(maxDrift: .milliseconds(drift)) }
    env.fromCollection(events, name: "events", watermarks: watermarks)
        .keyBy { $0.service }
        .window(.tumbling(.milliseconds(windowSize)))
        .aggregate(LatencyAggregate())
        .sink(name: "null") { _, _ in ChecksumWriter(total: totals) }
    var result: JobResult?
    let seconds = try time { result = try env.execute() }
    return (seconds, totals, result!.metrics)
}

/// The machine's own ceiling for two threads: the hand-written loop run twice at once, each
/// thread on half of the keys (split in advance, nothing shared). What parallelism 2 could
/// reach if exchanging records cost nothing.
func referenceLoopTwoThreads(_ halves: [[LatencyEvent]]) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    let group = DispatchGroup()
    for half in halves {
        let box = UncheckedSendable(half)
        group.enter()
        Thread.detachNewThread {
            _ = referenceLoop(box.value)
            group.leave()
        }
    }
    group.wait()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

func runtimeBenchmark(quick: Bool) throws -> Figures {
    let count = quick ? 1_000_000 : 10_000_000
    let repetitions = quick ? 1 : 5
    let keys = 10_000
    print("runtime benchmark: \(count) events, \(keys) keys, 10 s tumbling windows, 1 s disorder, median of \(repetitions)")
    let events = makeLatencyEvents(count: count, keys: keys)
    // A profiling aid: VIGIL_RUNTIME_PROFILE=P runs only Vigil at parallelism P, so that a
    // profiler's samples are of that run alone.
    if let p = ProcessInfo.processInfo.environment["VIGIL_RUNTIME_PROFILE"].flatMap(Int.init) {
        for _ in 0..<(ProcessInfo.processInfo.environment["VIGIL_RUNTIME_RUNS"].flatMap(Int.init) ?? repetitions) {
            let threading: ThreadingModel = switch ProcessInfo.processInfo.environment["VIGIL_THREADING"] {
            case "core": .threadPerCore()
            case "core1": .threadPerCore(threads: 1)
            default: .threadPerTask
            }
            let (seconds, _, metrics) = try runVigil(events, parallelism: p, threading: threading)
            let cpu = metrics.tasks.map { "\($0.name) " + String(format: "%.1f ns", Double($0.cpuNanos) / Double(count)) }.joined(separator: ", ")
            let helped = metrics.tasks.map(\.stepsByOtherWorkers).reduce(0, +)
            print("parallelism \(p): " + formatRate(Double(count) / seconds) + "  CPU per event: " + cpu + "  source steps by the other worker: \(helped)")
        }
        return Figures()
    }
    let halves = [events.filter { $0.service % 2 == 0 }, events.filter { $0.service % 2 == 1 }]
    let rssAfterGeneration = currentRSSMegabytes()

    // The job as Vigil runs it best: one worker thread per core. The same job with a thread per
    // task, for comparison. Each variant: (label, parallelism, threads).
    let variants: [(label: String, parallelism: Int, threading: ThreadingModel)] = [
        ("p1", 1, .threadPerCore()), ("p2", 2, .threadPerCore()),
        ("p1_thread_per_task", 1, .threadPerTask), ("p2_thread_per_task", 2, .threadPerTask),
    ]
    var reference: [Double] = [], referenceTwo: [Double] = []
    var seconds: [String: [Double]] = [:]
    var expected = (count: 0, checksum: 0.0)
    // CPU nanoseconds per event spent in each kind of task (where parallelism 2's time goes).
    var cpuPerEvent: [String: [Double]] = [:]
    // Per shared-worker run at parallelism 2: source steps taken by the other worker.
    var helpSteps: [Double] = []
    // Interleave them all so that machine noise hits them alike.
    for _ in 0..<repetitions {
        reference.append(time { expected = referenceLoop(events) })
        referenceTwo.append(referenceLoopTwoThreads(halves))
        for (label, p, threading) in variants {
            let (elapsed, totals, metrics) = try runVigil(events, parallelism: p, threading: threading)
            for (kind, prefix) in [("source", "events"), ("window", "window")] where p == 2 || kind == "source" {
                let ns = metrics.task(named: prefix).reduce(0.0) { $0 + Double($1.cpuNanos) }
                cpuPerEvent["\(label)_\(kind)", default: []].append(ns / Double(count))
            }
            if label == "p2" { helpSteps.append(Double(metrics.tasks.map(\.stepsByOtherWorkers).reduce(0, +))) }
            guard totals.count == expected.count, abs(totals.checksum - expected.checksum) < 1e-6 * abs(expected.checksum) else {
                throw BenchmarkError("\(label) produced \(totals.count) results (checksum \(totals.checksum)); the reference \(expected.count) (\(expected.checksum))")
            }
            seconds[label, default: []].append(elapsed)
        }
    }
    let referenceRate = Double(count) / median(reference)
    let referenceTwoRate = Double(count) / median(referenceTwo)
    let rate = seconds.mapValues { Double(count) / median($0) }
    let (p1Rate, p2Rate) = (rate["p1"]!, rate["p2"]!)
    let (p1TaskRate, p2TaskRate) = (rate["p1_thread_per_task"]!, rate["p2_thread_per_task"]!)
    var f = Figures()
    f.set("events", count)
    f.set("window_results", expected.count)
    f["events_per_s_p1"] = p1Rate
    f["events_per_s_p2"] = p2Rate
    f["reference_events_per_s"] = referenceRate
    f["ratio_p1_vs_reference"] = p1Rate / referenceRate
    f["scaling_p2_over_p1"] = p2Rate / p1Rate
    f["events_per_s_p1_thread_per_task"] = p1TaskRate
    f["events_per_s_p2_thread_per_task"] = p2TaskRate
    f["scaling_p2_over_p1_thread_per_task"] = p2TaskRate / p1TaskRate
    f["reference_two_threads_events_per_s"] = referenceTwoRate
    f["reference_scaling_two_threads"] = referenceTwoRate / referenceRate
    f["peak_rss_mb"] = peakRSSMegabytes()
    f["input_array_rss_mb"] = rssAfterGeneration
    for (label, values) in cpuPerEvent.sorted(by: { $0.key < $1.key }) { f["cpu_ns_per_event_\(label)"] = median(values) }
    f["source_steps_by_other_worker_p2"] = median(helpSteps)
    printTable("results (median of \(repetitions); one worker thread per core)", [
        ("hand-written loop", formatRate(referenceRate)),
        ("... two at once, half the keys each", formatRate(referenceTwoRate) + String(format: "   %.2f x one (the machine's ceiling for 2 threads)", referenceTwoRate / referenceRate)),
        ("vigil parallelism 1", formatRate(p1Rate) + String(format: "   %.2f x the loop", p1Rate / referenceRate)),
        ("vigil parallelism 2", formatRate(p2Rate) + String(format: "   %.2f x parallelism 1", p2Rate / p1Rate)),
        ("thread per task, parallelism 1", formatRate(p1TaskRate) + String(format: "   %.2f x the loop", p1TaskRate / referenceRate)),
        ("thread per task, parallelism 2", formatRate(p2TaskRate) + String(format: "   %.2f x parallelism 1", p2TaskRate / p1TaskRate)),
        ("window results", "\(expected.count) (identical count and checksum in every run)"),
        ("peak RSS", String(format: "%.0f MiB (of which the pre-generated inputs, whole and halved: %.0f MiB)", peakRSSMegabytes(), rssAfterGeneration)),
    ])
    printTable("CPU time per event, by task (median; p1: the one chained task)", cpuPerEvent.sorted(by: { $0.key < $1.key }).map {
        ($0.key.replacingOccurrences(of: "_", with: " ") + " tasks (all subtasks)", String(format: "%.0f ns", median($0.value)))
    })
    return f
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
