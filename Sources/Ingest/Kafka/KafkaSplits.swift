import CRdKafka
import Logging
import Stream
import Synchronization

/// The partitions one Kafka source subtask owns: their positions and event-time progress,
/// kept in slots so the per-message path is an array access after a small dictionary lookup
/// keyed by librdkafka's topic handle. Also the consumer's rebalance handler.
final class KafkaSplits: RebalanceHandler {
    struct Split {
        var partition: TopicPartition
        /// The next offset to read (`KafkaOffset.invalid` until the first record).
        var nextOffset: Int64
        var maxTimestamp: Timestamp = .min
        var lastRecordNanos: UInt64
        var atEnd = false
        var live = true
        /// A bounded range's end: the first offset not to read (`.max`: none).
        var stopOffset = Int64.max
    }

    private struct HandleKey: Hashable {
        let topic: UInt
        let partition: Int32
    }

    let options: KafkaSourceOptions
    let logger: Logger
    unowned(unsafe) var consumer: KafkaConsumer!
    private var splits: [Split] = []
    private var slotOf: [TopicPartition: Int] = [:]
    private var slotByHandle: [HandleKey: Int] = [:]
    private var topicNames: [UInt: String] = [:]
    /// Positions known for partitions this subtask does not read now: from the restored
    /// checkpoint (of all old subtasks), and where this subtask stopped reading a partition
    /// the group took away. They stay in checkpoints: the records before them are in this
    /// checkpoint's state and output, so a restore must not read them again.
    private var known: [TopicPartition: Int64] = [:]
    /// Positions of checkpoints taken but not yet complete, oldest first.
    private var pendingCheckpoints: [(id: Int64, offsets: [(TopicPartition, Int64)])] = []
    private var lastWatermark: Timestamp = .min
    /// A problem found inside a rebalance callback, thrown by the next read.
    var failure: KafkaError?
    private var everAssigned = false
    /// Partitions read to their range's end, to be paused by the next read (not from inside
    /// the rebalance callback, where they are not assigned yet).
    private(set) var toPause: [TopicPartition] = []
    /// When this subtask's reader was made: handovers recorded before it belong to an earlier
    /// run of a job in this process, whose positions this run's checkpoint does not cover.
    let createdAt: UInt64

    init(options: KafkaSourceOptions, logger: Logger, now: UInt64 = monotonicNanos()) {
        self.options = options
        self.logger = logger
        self.createdAt = now
    }

    // MARK: the per-message path

    @inline(__always)
    func slot(rkt: OpaquePointer?, partition: Int32) -> Int {
        let key = HandleKey(topic: UInt(bitPattern: rkt), partition: partition)
        if let s = slotByHandle[key] { return s }
        let tp = TopicPartition(topicName(rkt), partition)
        let s = slotOf[tp] ?? addSplit(tp, startingAt: KafkaOffset.invalid)
        slotByHandle[key] = s
        return s
    }

    @inline(__always)
    func topicName(_ rkt: OpaquePointer?) -> String {
        let key = UInt(bitPattern: rkt)
        if let name = topicNames[key] { return name }
        let name = rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        topicNames[key] = name
        return name
    }

    @inline(__always)
    func consumed(slot: Int, offset: Int64, maxTimestamp: Timestamp, now: UInt64 = monotonicNanos()) {
        splits[slot].nextOffset = offset + 1
        splits[slot].atEnd = offset + 1 >= splits[slot].stopOffset
        if splits[slot].atEnd { toPause.append(splits[slot].partition) }
        splits[slot].lastRecordNanos = now
        if maxTimestamp > splits[slot].maxTimestamp { splits[slot].maxTimestamp = maxTimestamp }
    }

    /// Whether a message lies beyond its partition's range (fetched before the pause took
    /// effect): it is dropped unread.
    @inline(__always)
    func isPastStop(slot: Int, offset: Int64) -> Bool {
        offset >= splits[slot].stopOffset
    }

    func takePartitionsToPause() -> [TopicPartition] {
        defer { toPause = [] }
        return toPause
    }

    private var lagReportedAt: UInt64 = 0

    /// Publishes each owned partition's lag (at most once a second: it takes a lock).
    func reportLag(now: UInt64 = monotonicNanos()) {
        guard now - lagReportedAt >= 1_000_000_000 else { return }
        lagReportedAt = now
        var owned: [KafkaConsumerLag.Partition] = []
        for s in splits where s.live && s.nextOffset >= 0 {
            var low: Int64 = 0, high: Int64 = -1
            guard rd_kafka_get_watermark_offsets(consumer.handle, s.partition.topic, s.partition.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high >= 0 else { continue }
            owned.append(.init(group: options.groupID, topic: s.partition.topic, partition: s.partition.partition, position: s.nextOffset, end: high))
        }
        KafkaConsumerLag.shared.update(group: options.groupID, owned)
    }

    /// A consumer event that is not a message: end of a partition, or an error.
    func handleEvent(_ msg: rd_kafka_message_t) throws {
        if msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            let s = slot(rkt: msg.rkt, partition: msg.partition)
            splits[s].atEnd = true
            if msg.offset >= 0 { splits[s].nextOffset = msg.offset }
            return
        }
        try consumer.handleError(msg.err)
    }

    /// The watermark of this subtask, if it advanced: the least of its live partitions'
    /// watermarks, ignoring partitions idle for longer than the idle timeout. When every
    /// partition is idle, the least of those that have had records: otherwise records read
    /// while an empty partition was not yet idle would never move the watermark (it did
    /// happen, when they all arrived within the idle timeout of the assignment).
    func watermark(now: UInt64 = monotonicNanos()) -> Timestamp? {
        let idleNanos = UInt64(max(0, options.partitionIdleTimeout.milliseconds)) * 1_000_000
        let lag = options.outOfOrderness.milliseconds
        var least = Timestamp.max, leastOfIdle = Timestamp.max
        var any = false, anyIdleWithRecords = false
        for s in splits where s.live {
            let w = s.maxTimestamp == .min ? Timestamp.min : s.maxTimestamp &- lag &- 1
            // A partition read to the end of its range will have no more records: like an idle one.
            let finished = s.atEnd && s.stopOffset != .max
            if finished || now - s.lastRecordNanos >= idleNanos {
                if s.maxTimestamp != .min { anyIdleWithRecords = true; leastOfIdle = min(leastOfIdle, w) }
                continue
            }
            any = true
            least = min(least, w)
        }
        if !any && anyIdleWithRecords { least = leastOfIdle; any = true }
        guard any, least > lastWatermark else { return nil }
        lastWatermark = least
        return least
    }

    /// A bounded source ends once the group has given it partitions and every one is read to
    /// its end. A subtask given none waits: when the others finish and leave, the group hands
    /// it their partitions (already at their end), so no partition is left without a reader.
    var allAtEnd: Bool {
        guard options.boundedness != .unbounded, everAssigned else { return false }
        let live = splits.filter(\.live)
        return !live.isEmpty && live.allSatisfy(\.atEnd)
    }

    // MARK: checkpoints

    private var positions: [(TopicPartition, Int64)] {
        splits.filter { $0.live && $0.nextOffset >= 0 }.map { ($0.partition, $0.nextOffset) }
    }

    func writePositions(into w: inout StateWriter) {
        var all = known
        for (tp, o) in positions { all[tp] = o }
        w.writeVarint(all.count)
        for (tp, offset) in all.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
            w.write(tp.topic)
            w.write(tp.partition)
            w.write(offset)
        }
    }

    func remember(checkpointID: Int64) {
        pendingCheckpoints.append((checkpointID, positions))
    }

    func restorePositions(from r: inout StateReader) throws {
        for _ in 0..<(try r.readVarint()) {
            let tp = TopicPartition(try r.readString(), try r.read(Int32.self))
            let offset: Int64 = try r.read()
            known[tp] = max(known[tp] ?? .min, offset)
        }
    }

    /// What checkpoint `id` covered, for the partitions this subtask still owns: committing a
    /// revoked partition would move its new owner's offset backwards.
    func offsetsToCommit(upTo id: Int64) -> [(TopicPartition, Int64)]? {
        guard let index = pendingCheckpoints.lastIndex(where: { $0.id <= id }) else { return nil }
        let offsets = pendingCheckpoints[index].offsets.filter { slotOf[$0.0].map { splits[$0].live } ?? false }
        pendingCheckpoints.removeFirst(index + 1)
        return offsets
    }

    // MARK: rebalances

    func partitionsAssigned(_ partitions: [TopicPartition]) -> [Int64] {
        everAssigned = true
        var committed = partitions.map { _ in KafkaOffset.invalid }
        do {
            committed = try consumer.committed(partitions)
        } catch {
            logger.warning("cannot read the group's committed offsets (\(error)); starting from the checkpoint or the starting offsets")
        }
        var byTime: [Int64]?
        if case .timestamp(let t) = options.startingOffsets {
            let fresh = partitions.enumerated().filter { start(of: $0.element, committed: committed[$0.offset]) < 0 }.map(\.element)
            if !fresh.isEmpty {
                do {
                    let found = try consumer.offsetsAtOrAfter(fresh, timestampMs: t, probeProperties: options.consumerProperties)
                    var map = Dictionary(uniqueKeysWithValues: zip(fresh, found))
                    byTime = partitions.map { map.removeValue(forKey: $0) ?? KafkaOffset.invalid }
                } catch {
                    // Starting anywhere else would silently read the wrong range: fail the job.
                    failure = KafkaError("cannot find where \(summary(fresh)) reach time \(t): \(error)")
                    byTime = partitions.map { _ in KafkaOffset.end }
                }
            }
        }
        let range = rangeEnds(partitions)
        let starts = concrete(partitions.enumerated().map { i, tp in
            let resume = start(of: tp, committed: committed[i])
            if resume >= 0 { return resume }
            switch options.startingOffsets {
            case .earliest: return KafkaOffset.beginning
            case .latest: return KafkaOffset.end
            case .timestamp: return byTime?[i] ?? KafkaOffset.end
            }
        }, of: partitions)
        return partitions.enumerated().map { i, tp in
            let start = starts[i]
            let s = addSplit(tp, startingAt: start >= 0 ? start : KafkaOffset.invalid)
            if let range {
                splits[s].stopOffset = range.stops[i]
                let first = start >= 0 ? start : start == KafkaOffset.beginning ? range.watermarks[i].low : range.watermarks[i].high
                if first >= range.stops[i] {
                    splits[s].atEnd = true
                    toPause.append(tp)
                }
            }
            return start
        }
    }

    /// The offsets that `starts` name logically (the beginning, the end) looked up now, in one
    /// request per broker. A partition assigned at a logical offset is looked up by librdkafka
    /// as soon as it is assigned, often before it has joined its leader's broker thread; the
    /// lookup then fails ("no current leader") and is retried only after 500 ms (hard-wired in
    /// librdkafka 2.0): a fresh group's source stalled half a second at its start (the kafka
    /// benchmark saw it in most runs). Where the lookup fails, the logical offset stays.
    private func concrete(_ starts: [Int64], of partitions: [TopicPartition]) -> [Int64] {
        let logical = starts.indices.filter { starts[$0] == KafkaOffset.beginning || starts[$0] == KafkaOffset.end }
        guard !logical.isEmpty else { return starts }
        do {
            let found = try consumer.logicalOffsets(logical.map { (partitions[$0], starts[$0]) })
            var out = starts
            for (i, offset) in zip(logical, found) where offset >= 0 { out[i] = offset }
            return out
        } catch {
            logger.notice("cannot look up where \(summary(logical.map { partitions[$0] })) begin or end (\(error)); librdkafka will")
            return starts
        }
    }

    /// For a source bounded by time: each partition's stop offset (its first record at or
    /// after the time, else its end now) and its watermarks. nil for other sources, and after
    /// a failure (which the next read throws).
    private func rangeEnds(_ partitions: [TopicPartition]) -> (stops: [Int64], watermarks: [(low: Int64, high: Int64)])? {
        guard case .untilTimestamp(let t) = options.boundedness else { return nil }
        do {
            let marks = try consumer.watermarks(partitions)
            let stops = try consumer.offsetsAtOrAfter(partitions, timestampMs: t, probeProperties: options.consumerProperties)
            return (stops, marks)
        } catch {
            // Reading on without knowing where to stop would silently read the wrong range.
            failure = KafkaError("cannot find where \(summary(partitions)) reach time \(t): \(error)")
            return (partitions.map { _ in 0 }, partitions.map { _ in (0, 0) })
        }
    }

    /// Where to resume a partition: the furthest of what this job's checkpoint says, what the
    /// group committed, and where another subtask of this process stopped reading it. (-1: none.)
    private func start(of tp: TopicPartition, committed: Int64) -> Int64 {
        max(known[tp] ?? -1, committed, PartitionHandovers.shared.position(group: options.groupID, tp, since: createdAt) ?? -1)
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        for tp in partitions {
            guard let s = slotOf[tp], splits[s].live else { continue }
            splits[s].live = false
            let position = splits[s].nextOffset
            if position >= 0 { known[tp] = max(known[tp] ?? -1, position) }
            if position >= 0 { PartitionHandovers.shared.handOver(group: options.groupID, tp, at: position) }
        }
        KafkaConsumerLag.shared.remove(group: options.groupID, partitions)
    }

    func addSplit(_ tp: TopicPartition, startingAt offset: Int64, now: UInt64 = monotonicNanos()) -> Int {
        if let s = slotOf[tp] {
            splits[s] = Split(partition: tp, nextOffset: offset, lastRecordNanos: now)
            return s
        }
        splits.append(Split(partition: tp, nextOffset: offset, lastRecordNanos: now))
        slotOf[tp] = splits.count - 1
        return splits.count - 1
    }
}

/// Where the subtasks of this process stopped reading partitions the group moved away. The
/// group moves partitions between members without any notion of checkpoints: a partition a
/// subtask read past its last checkpoint must be resumed where that subtask stopped, not at
/// the checkpoint, or the records in between would be processed by two subtasks of one job.
/// Entries carry the time they were recorded: a job restarted in this process from its
/// checkpoint must not skip to where an earlier run stopped. (Across processes this knowledge
/// does not exist: see the ingest notes.)
final class PartitionHandovers: Sendable {
    static let shared = PartitionHandovers()
    private let handovers = Mutex<[String: [TopicPartition: (offset: Int64, at: UInt64)]]>([:])

    /// Overwrites: within a run a partition's position only moves forward, and an older entry
    /// may be an earlier run's.
    func handOver(group: String, _ tp: TopicPartition, at offset: Int64, now: UInt64 = monotonicNanos()) {
        handovers.withLock { $0[group, default: [:]][tp] = (offset, now) }
    }

    /// The position recorded at or after `since` (the asking reader's creation), if any.
    func position(group: String, _ tp: TopicPartition, since: UInt64) -> Int64? {
        handovers.withLock { all in
            guard let h = all[group]?[tp], h.at >= since else { return nil }
            return h.offset
        }
    }
}
