import Foundation
import Logging
import Stream

/// The stateful stage's work for one repartition partition: the user's keyed topology run on
/// the runtime's embedded executor (one thread, driven by the stage), its checkpoints in
/// `<state>/partitions/<n>/`, and the partition's progress (position, repeats, watermarks).
/// A process holds one per partition the group gave it; handing a partition over hands over
/// exactly this.
final class PartitionTask<In: StateCodable & Sendable, Out: Sendable> {
    let partition: Int32
    let directory: String
    private let input: ManualInput<In>
    private let collected: CollectedRecords<Out>
    private let execution: EmbeddedExecution
    private let inputPartitions: Int32
    var progress: PartitionProgress
    /// Output since the last commit, in the order it was produced.
    private(set) var output: [Out] = []
    /// Something happened since the last commit (records, watermark, output).
    private(set) var dirty = false
    private var watermark = Timestamp.min
    private var sentSinceRun = 0
    /// One message's new records, handed to the topology under one lock.
    private var accepted: [(In, Timestamp)] = []

    /// `restoreFrom`: a checkpoint directory holding the state at `progress`; nil: empty state.
    init(partition: Int32, directory: String, inputPartitions: Int32, progress: PartitionProgress,
         restoreFrom checkpoint: String?, build: (DataStream<In>) throws -> DataStream<Out>) throws {
        self.partition = partition
        self.directory = directory
        self.inputPartitions = inputPartitions
        self.progress = progress
        let env = StreamEnvironment(name: "partition-\(partition)", parallelism: 1)
        var config = CheckpointConfig(directory: directory, interval: nil)
        config.restore = checkpoint.map { .from($0) } ?? .none
        config.retained = 2
        env.checkpointing = config
        let (stream, input) = env.manualSource(In.self)
        self.input = input
        collected = try build(stream).collect()
        execution = try env.embedded()
        try execution.runUntilIdle()
        watermark = combinedWatermark()
        if watermark > .min { input.watermark(watermark) }
    }

    /// Takes one repartition message's records and watermark (at `offset`), dropping records
    /// applied before (a failover made the input stage write them again).
    func take(_ bytes: [UInt8], offset: Int64, counters: ScaleOutCounters) throws {
        var r = StateReader(bytes)
        let h = try RepartitionBatch.readHeader(&r)
        var last = progress.applied[h.inputPartition] ?? .none
        accepted.removeAll(keepingCapacity: true)
        for _ in 0..<h.count {
            let record = try RepartitionBatch.readRecord(&r, as: In.self)
            guard last < record.place else { continue }
            last = record.place
            accepted.append((record.value, record.time))
        }
        input.send(contentsOf: accepted)
        let applied = accepted.count
        counters.applied.add(applied, ordering: .relaxed)
        counters.repeated.add(h.count - applied, ordering: .relaxed)
        progress.applied[h.inputPartition] = last
        let old = progress.watermarks[h.inputPartition]
        // A successor of the input partition's reader starts from an older offset and reports
        // lower watermarks for a while: the watermark of a place only grows, keep the highest.
        let wm = max(old?.watermark ?? .min, h.watermark)
        progress.watermarks[h.inputPartition] = .init(watermark: wm, idle: h.idle)
        progress.position = offset + 1
        sentSinceRun += applied
        dirty = true
    }

    /// Processes what was taken and moves event time on. Returns the number of records it
    /// emitted (they wait for the next commit).
    @discardableResult
    func run() throws -> Int {
        let w = combinedWatermark()
        if w > watermark {
            watermark = w
            input.watermark(w)
        }
        try execution.runUntilIdle()
        sentSinceRun = 0
        let out = collected.values
        if !out.isEmpty {
            collected.removeAll()
            output += out
        }
        return out.count
    }

    /// The least watermark over the input partitions that are not idle (all idle: the least of
    /// them). An input partition never heard from holds event time back.
    private func combinedWatermark() -> Timestamp {
        var least = Timestamp.max, leastIdle = Timestamp.max
        var anyActive = false
        for p in 0..<inputPartitions {
            guard let w = progress.watermarks[p] else { return .min }
            if w.idle { leastIdle = min(leastIdle, w.watermark) } else { anyActive = true; least = min(least, w.watermark) }
        }
        if !anyActive { least = leastIdle }
        return least == .max ? .min : least
    }

    /// Checkpoints the state; returns its directory. Output and progress are the caller's to
    /// commit with it.
    func checkpoint() throws -> String {
        try execution.triggerCheckpoint().directory
    }

    /// The commit went through: forget its output.
    func committed(_ progress: PartitionProgress) {
        self.progress = progress
        output.removeAll(keepingCapacity: true)
        dirty = false
    }
}
