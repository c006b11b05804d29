import Foundation
import Stream

/// The checkpoint benchmark (issue "Exactly-once checkpoints"): the runtime benchmark's
/// workload with state grown to 1 million keys — every key keeps a lifetime baseline
/// (count / sum / max in value state, as a detector would) in front of the 10 s tumbling
/// windows. Throughput with a checkpoint every second against the same job without
/// checkpoints, in the same run; checkpoint duration (synchronous part and total), bytes
/// per checkpoint, and the time to restore the last one.
extension LatencyStats: StateCodable {
    func encode(to w: inout StateWriter) { count.encode(to: &w); sum.encode(to: &w); max.encode(to: &w) }
    static func decode(from r: inout StateReader) throws -> LatencyStats {
        LatencyStats(count: try .decode(from: &r), sum: try .decode(from: &r), max: try .decode(from: &r))
    }
}

/// Folds each event into its key's lifetime baseline and passes the event on.
struct BaselineFunction: KeyedProcessFunction {
    var baseline: ValueState<Int, LatencyStats>!
    mutating func open(_ context: KeyedContext<Int, LatencyEvent>) throws {
        baseline = try context.valueState("baseline", LatencyStats.self)
    }
    mutating func processElement(_ e: LatencyEvent, _ context: KeyedContext<Int, LatencyEvent>) throws {
        var s = baseline.value ?? LatencyStats()
        s.add(e)
        baseline.update(s)
        try context.emit(e)
    }
}

func checkpointJob(_ events: [LatencyEvent], parallelism: Int, checkpoints: CheckpointConfig?) -> (StreamEnvironment, ResultTotals) {
    let env = StreamEnvironment(name: "checkpoint-benchmark", parallelism: parallelism)
    env.checkpointing = checkpoints
    let totals = ResultTotals()
    env.fromCollection(events, name: "events",
                       watermarks: .boundedOutOfOrderness(.milliseconds(disorder)) { $0.timestamp })
        .keyBy { $0.service }
        .process(name: "baseline", BaselineFunction())
        .keyBy { $0.service }
        .window(.tumbling(.milliseconds(windowSize)))
        .aggregate(LatencyAggregate())
        .sink(name: "null") { _, _ in ChecksumWriter(total: totals) }
    return (env, totals)
}

func checkpointBenchmark(quick: Bool) throws -> Figures {
    let count = quick ? 2_000_000 : 10_000_000
    let keys = quick ? 200_000 : 1_000_000
    let repetitions = quick ? 1 : 5
    let parallelism = 2
    // The full run lasts seconds: a checkpoint every second. The quick one is shorter.
    let interval: TimeSpan = quick ? .milliseconds(200) : .seconds(1)
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-checkpoint-bench-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    print("checkpoint benchmark: \(count) events, \(keys) keys (baseline state per key + 10 s windows), parallelism \(parallelism), a checkpoint every \(interval), median of \(repetitions)")
    let events = makeLatencyEvents(count: count, keys: keys)

    var without: [Double] = [], with: [Double] = [], withoutFinal: [Double] = []
    var durations: [Double] = [], syncs: [Double] = [], asyncs: [Double] = [], bytes: [Double] = []
    var expected: (count: Int, checksum: Double)?
    // CPU time of the task threads per event: what checkpoints add on the tasks themselves.
    var taskCPUWith: [Double] = [], taskCPUWithout: [Double] = []
    var lastDirectory = ""
    for rep in 0..<repetitions {
        // Interleaved so that machine noise hits both alike.
        for checkpointed in [false, true] {
            var config: CheckpointConfig?
            if checkpointed {
                lastDirectory = root + "/run-\(rep)"
                var c = CheckpointConfig(directory: lastDirectory, interval: interval)
                c.retained = 2
                config = c
            }
            let (env, totals) = checkpointJob(events, parallelism: parallelism, checkpoints: config)
            var handle: JobHandle?
            let seconds = try time {
                let job = try env.start()
                _ = try job.wait()
                handle = job
            }
            if let e = expected {
                guard totals.count == e.count, abs(totals.checksum - e.checksum) < 1e-6 * abs(e.checksum) else {
                    throw BenchmarkError("results differ between runs: \(totals.count) (\(totals.checksum)) vs \(e.count) (\(e.checksum))")
                }
            } else {
                expected = (totals.count, totals.checksum)
            }
            let taskCPU = handle!.metrics.tasks.reduce(0.0) { $0 + Double($1.cpuNanos) } / Double(count)
            if checkpointed { taskCPUWith.append(taskCPU) } else { taskCPUWithout.append(taskCPU) }
            if checkpointed {
                with.append(seconds)
                // A bounded job ends with a final checkpoint of all its state, which a
                // streaming job never takes: the steady-state figure leaves it out.
                let final = Double(handle!.completedCheckpoints.last!.durationNanos) / 1e9
                withoutFinal.append(seconds - final)
                // The final checkpoint of a bounded job holds little; the periodic ones are measured.
                let periodic = handle!.completedCheckpoints.dropLast()
                durations += periodic.map { Double($0.durationNanos) / 1e6 }
                syncs += periodic.map { Double($0.syncNanos) / 1e6 }
                asyncs += periodic.map { Double($0.asyncNanos) / 1e6 }
                bytes += periodic.map { Double($0.bytes) }
                print(String(format: "  with checkpoints:    %.2f s (%.2f s before the final checkpoint), %d periodic checkpoints", seconds, seconds - final, periodic.count))
            } else {
                without.append(seconds)
                print(String(format: "  without checkpoints: %.2f s", seconds))
            }
        }
    }
    guard !durations.isEmpty else { throw BenchmarkError("no periodic checkpoint completed: the runs were shorter than the interval") }

    // Restore: build the job from the newest retained checkpoint (the final one of a bounded
    // job is small), so restore the largest retained periodic checkpoint explicitly.
    let candidates = (try? FileManager.default.contentsOfDirectory(atPath: lastDirectory + "/checkpoints")) ?? []
    let largest = try candidates.map { lastDirectory + "/checkpoints/" + $0 }
        .map { (path: $0, metadata: try CheckpointStorage.validate($0)) }
        .max { $0.metadata.files.reduce(0) { $0 + $1.bytes } < $1.metadata.files.reduce(0) { $0 + $1.bytes } }!
    var restoreTimes: [Double] = []
    for _ in 0..<repetitions {
        var config = CheckpointConfig(directory: root + "/restore-scratch", interval: nil)
        config.restore = .from(largest.path)
        let (restoring, _) = checkpointJob([], parallelism: parallelism, checkpoints: config)
        let (plain, _) = checkpointJob([], parallelism: parallelism, checkpoints: nil)
        let withRestore = try time { _ = try restoring.embedded() }
        let baseline = try time { _ = try plain.embedded() }
        restoreTimes.append(max(0, withRestore - baseline))
    }
    let restoredBytes = largest.metadata.files.reduce(0) { $0 + $1.bytes }

    let rateWithout = Double(count) / median(without)
    let rateWith = Double(count) / median(with)
    let rateSteady = Double(count) / median(withoutFinal)
    var f = Figures()
    f.set("events", count)
    f.set("state_keys", keys)
    f.set("parallelism", parallelism)
    f["events_per_s_without_checkpoints"] = rateWithout
    f["events_per_s_with_checkpoints"] = rateWith
    f["throughput_ratio_with_checkpoints"] = rateSteady / rateWithout
    f["throughput_ratio_including_final_checkpoint"] = rateWith / rateWithout
    f["checkpoint_ms_median"] = median(durations)
    f["sync_ms_median"] = median(syncs)  // the longest task's synchronous part
    f["task_cpu_ns_per_event_without"] = median(taskCPUWithout)
    f["task_cpu_ns_per_event_with"] = median(taskCPUWith)
    f["async_cpu_ms_median"] = median(asyncs)  // CPU of encode + compress + write, summed over tasks
    f["checkpoint_bytes"] = median(bytes)
    f["checkpoints_measured"] = Double(durations.count)
    f["restore_ms"] = median(restoreTimes) * 1000
    f["restored_checkpoint_bytes"] = Double(restoredBytes)
    f["peak_rss_mb"] = peakRSSMegabytes()
    printTable("results (median of \(repetitions) runs each; checkpoints: median over \(durations.count))", [
        ("without checkpoints", formatRate(rateWithout)),
        ("checkpoint every \(interval)", formatRate(rateSteady) + String(format: "   %.2f x without (until the final checkpoint)", rateSteady / rateWithout)),
        ("... with the final checkpoint", formatRate(rateWith) + String(format: "   %.2f x without", rateWith / rateWithout)),
        ("checkpoint duration", String(format: "%.0f ms (synchronous part, longest task: %.2f ms)", median(durations), median(syncs))),
        ("asynchronous part", String(format: "%.0f ms of CPU (encode, compress, write; all tasks, one I/O thread)", median(asyncs))),
        ("task CPU per event", String(format: "%.0f ns without checkpoints, %.0f ns with", median(taskCPUWithout), median(taskCPUWith))),
        ("bytes per checkpoint", String(format: "%.1f MB (zstd)", median(bytes) / 1e6)),
        ("restore", String(format: "%.0f ms for %.1f MB", median(restoreTimes) * 1000, Double(restoredBytes) / 1e6)),
        ("peak RSS", String(format: "%.0f MiB", peakRSSMegabytes())),
    ])
    return f
}
