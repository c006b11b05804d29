import CRdKafka
import Foundation
import Logging
import Stream

/// The stateful stage of a scaled-out job: a member of `<group>.stateful` reading the
/// repartition topic. Each partition it owns is a `PartitionTask`; each task commits on its
/// own, in a Kafka transaction of its own transactional id (`<group>-stateful-<n>`): the
/// output records, the state (as chunks in the changelog) and the marker that names the
/// commit, its position and the places applied.
///
/// Handover: a revoked partition commits once more and closes, inside the revocation, before
/// the group can give it to another member. An assigned partition first fences any earlier
/// owner — its transactional producer's `initTransactions` (real Kafka's fencing), then a
/// claim in the changelog (which voids later commits of a stalled old owner on any broker) —
/// then restores: from the local checkpoint when the changelog's last commit
/// is that checkpoint's own, else from the changelog's last commit, else empty.
/// (`Specs/Handover.tla` models this.)
final class StatefulStage<In: StateCodable & Sendable, Out: Sendable>: RebalanceHandler {
    private struct Owned {
        var task: PartitionTask<In, Out>
        var producer: KafkaProducer
        /// This ownership's claim on the partition (see `ChangelogReader`).
        var epoch: UInt64
    }

    private let options: ScaleOutOptions
    private let build: @Sendable (DataStream<In>) throws -> DataStream<Out>
    private let encode: @Sendable (Out) -> KafkaOutputRecord
    private let consumer: KafkaConsumer
    private let logger: Logger
    private let inputPartitions: Int32
    private var owned: [Int32: Owned] = [:] {
        // Rebalances only (a handful of entries): the copy a didSet may cost does not matter.
        didSet { counters.ownedPartitions.store(owned.count, ordering: .relaxed) }
    }
    private var touched = Set<Int32>()
    /// A failure inside a rebalance callback, thrown by the next poll.
    private var failure: (any Error)?
    let counters = ScaleOutCounters.shared

    init(options: ScaleOutOptions, inputPartitions: Int32, build: @escaping @Sendable (DataStream<In>) throws -> DataStream<Out>,
         encode: @escaping @Sendable (Out) -> KafkaOutputRecord, logger: Logger) throws {
        self.options = options
        self.build = build
        self.encode = encode
        self.logger = logger
        self.inputPartitions = inputPartitions
        var props = options.consumerProperties
        props["group.id"] = options.group + ".stateful"
        // The input stage writes without transactions: read_committed would hide nothing, and
        // on the mock cluster it held every repartition message back until the next commit.
        props["isolation.level"] = "read_uncommitted"
        consumer = try KafkaConsumer(properties: props, logger: logger)
        consumer.rebalanceHandler = self
        try consumer.subscribe([options.repartitionTopic])
    }

    func poll(limit: Int, timeoutMs: Int32) throws -> Int {
        let read = try consumer.pollMessages(limit: limit, timeoutMs: timeoutMs) { m in
            if let failure { self.failure = nil; throw failure }
            let msg = m.pointee
            guard let o = owned[msg.partition] else { return false }
            let bytes = Array(UnsafeRawBufferPointer(start: msg.payload, count: msg.len))
            do {
                try o.task.take(bytes, offset: msg.offset, counters: counters)
            } catch {
                // Only this job writes the topic: a message it cannot read is a bug or another
                // version, and skipping it would lose records silently.
                throw KafkaError("repartition message \(options.repartitionTopic)[\(msg.partition)]@\(msg.offset) cannot be read: \(error)")
            }
            touched.insert(msg.partition)
            return true
        }
        if let failure { self.failure = nil; throw failure }
        var emitted = 0
        for p in touched.sorted() { emitted += try owned[p]?.task.run() ?? 0 }
        touched.removeAll(keepingCapacity: true)
        if emitted > 0 { counters.lastEmittedNanos.store(Int(monotonicNanos()), ordering: .relaxed) }
        return read
    }

    /// Commits every partition that changed since its last commit. Each partition has its own
    /// transaction; they run side by side (all produced, then all flushed, then all committed)
    /// so that their round trips overlap. A partition whose transaction fails is committed
    /// again on its own.
    func commitAll() throws {
        let started = monotonicNanos()
        defer { counters.commitNanos.add(Int(monotonicNanos() - started), ordering: .relaxed) }
        var open: [(Int32, PreparedCommit)] = []
        for p in owned.keys.sorted() {
            guard let o = owned[p], o.task.dirty else { continue }
            let prepared = try prepare(p, o)
            do {
                try o.producer.beginTransaction()
                try produce(p, o, prepared)
                open.append((p, prepared))
            } catch let f as KafkaProducer.TransactionFailure where f.requiresAbort {
                try? o.producer.abortTransaction()
                try commit(p)
            }
        }
        var flushed: [(Int32, PreparedCommit)] = []
        for (p, prepared) in open {
            guard let o = owned[p] else { continue }
            do {
                try finishProducing(p, o, prepared)
                flushed.append((p, prepared))
            } catch let f as KafkaProducer.TransactionFailure where f.requiresAbort {
                try? o.producer.abortTransaction()
                try commit(p)
            }
        }
        for (p, prepared) in flushed {
            guard let o = owned[p] else { continue }
            do {
                try o.producer.commitTransaction()
                try committed(p, o, prepared)
            } catch let f as KafkaProducer.TransactionFailure where f.requiresAbort {
                try? o.producer.abortTransaction()
                try commit(p)
            }
        }
    }

    /// A commit's content, ready to produce.
    private struct PreparedCommit {
        var progress: PartitionProgress
        var chunks: [ArraySlice<UInt8>]
        var directory: String
        var header: [(String, [UInt8])]
    }

    /// The partition's checkpoint, bundled, and the progress its marker will carry.
    private func prepare(_ p: Int32, _ o: Owned) throws -> PreparedCommit {
        let directory = try o.task.checkpoint()
        let bundle = try StateBundle.pack(directory: directory)
        let chunks = StateBundle.chunks(bundle)
        var progress = o.task.progress
        progress.transaction = "\(options.group)-stateful-\(p)/\(String(UInt64.random(in: 1...UInt64.max), radix: 16))"
        progress.epoch = o.epoch
        progress.chunks = chunks.count
        progress.bundleChecksum = CRC32C.checksum(bundle)
        progress.changelogStart = try changelogStart(p, o)
        return PreparedCommit(progress: progress, chunks: chunks, directory: directory,
                              header: [("vigil.txn", Array(progress.transaction.utf8))])
    }

    /// Output and state chunks, in the open transaction.
    private func produce(_ p: Int32, _ o: Owned, _ c: PreparedCommit) throws {
        for out in o.task.output {
            let r = encode(out)
            try o.producer.produce(topic: options.outputTopic, partition: r.partition, key: r.key, value: r.value, headers: c.header)
        }
        for (i, chunk) in c.chunks.enumerated() {
            let key = Array("chunk/\(i)".utf8)
            try key.withUnsafeBytes { k in
                try chunk.withUnsafeBytes { v in
                    try o.producer.produce(topic: options.changelogTopic, partition: p, key: k, value: v, headers: c.header)
                }
            }
        }
    }

    /// The marker goes last, once everything else of the commit is on the brokers.
    private func finishProducing(_ p: Int32, _ o: Owned, _ c: PreparedCommit) throws {
        try o.producer.flush()
        // The epoch in a header too, so that tools (kcat) can tell a zombie's marker.
        try o.producer.produce(topic: options.changelogTopic, partition: p, key: Array("commit".utf8), value: c.progress.encode(),
                               headers: c.header + [("vigil.epoch", Array(String(o.epoch, radix: 16).utf8))])
    }

    private func committed(_ p: Int32, _ o: Owned, _ c: PreparedCommit) throws {
        counters.commits.add(1, ordering: .relaxed)
        o.task.committed(c.progress)
        commitsSinceStart[p, default: 0] += 1
        // The local copy: a restart that keeps this partition restores from here.
        try DurableFiles.write(c.progress.encode(), to: c.directory + "/" + Self.progressFile)
        // For lag and tools only: the position a restore uses is the marker's.
        try? consumer.commit([(TopicPartition(options.repartitionTopic, p), c.progress.position)], async: true)
    }

    /// One partition's commit, in a transaction of its own (retried after an abort).
    private func commit(_ p: Int32) throws {
        guard let o = owned[p], o.task.dirty else { return }
        let prepared = try prepare(p, o)
        var attempt = 0
        while true {
            attempt += 1
            do {
                try o.producer.beginTransaction()
                try produce(p, o, prepared)
                try finishProducing(p, o, prepared)
                try o.producer.commitTransaction()
                break
            } catch let f as KafkaProducer.TransactionFailure where f.requiresAbort && attempt < 5 {
                logger.warning("commit of \(options.repartitionTopic)[\(p)] failed (\(f)); aborting and retrying")
                try? o.producer.abortTransaction()
            }
        }
        try committed(p, o, prepared)
    }

    /// Where a restore's read of the changelog tail may start: at or before the changelog's end
    /// before this commit, and after this owner's claim. Taking the partition learnt the end;
    /// asking the brokers again costs a round trip that waits behind the consumer's fetch
    /// (about 20 ms), so it is asked only every 20 commits, the partitions in turn; an older
    /// start only makes that read longer.
    private func changelogStart(_ p: Int32, _ o: Owned) throws -> Int64 {
        let n = commitsSinceStart[p, default: 0]
        if (n + Int(p)) % 20 == 0 || o.task.progress.changelogStart <= 0 {
            return try consumer.watermarks([TopicPartition(options.changelogTopic, p)])[0].high
        }
        return o.task.progress.changelogStart
    }
    private var commitsSinceStart: [Int32: Int] = [:]

    static var progressFile: String { "partition-progress" }

    func close() throws {
        try commitAll()
        consumer.close()
        owned.removeAll()
    }

    // MARK: RebalanceHandler

    func partitionsAssigned(_ partitions: [TopicPartition]) -> [Int64] {
        partitions.map { tp in
            do {
                return try take(tp.partition)
            } catch {
                failure = error
                return KafkaOffset.end
            }
        }
    }

    /// Fences the partition's earlier owner, restores its state, returns where to read from.
    private func take(_ p: Int32) throws -> Int64 {
        let started = monotonicNanos()
        var props = options.producerProperties
        props["transactional.id"] = "\(options.group)-stateful-\(p)"
        props["transaction.timeout.ms"] = "10000"
        let producer = try KafkaProducer(properties: props)
        try producer.initTransactions()
        try producer.fetchMetadata(topics: [options.outputTopic, options.changelogTopic])
        let epoch = try claim(p, producer)
        let directory = options.stateDirectory + "/partitions/\(p)"
        let reader = ChangelogReader(properties: options.consumerProperties, topic: options.changelogTopic, partition: p)
        var restoreFrom: String?
        var progress = PartitionProgress.empty
        var source = "nothing (empty state)"
        var changelogEnd: Int64
        if let local = Self.latestLocal(directory),
           let tail = try? reader.read(from: local.progress.changelogStart, epoch: local.progress.epoch),
           tail.commit?.progress.transaction == local.progress.transaction {
            (restoreFrom, progress, source) = (local.path, local.progress, "the local checkpoint")
            changelogEnd = tail.end
            counters.restoredFromLocal.add(1, ordering: .relaxed)
        } else {
            let read = try reader.read(from: KafkaOffset.beginning)
            changelogEnd = read.end
            if let last = read.commit {
                let path = directory + "/from-changelog"
                try? FileManager.default.removeItem(atPath: directory + "/checkpoints")  // another owner's since
                try StateBundle.unpack(last.bundle, into: path)
                (restoreFrom, progress, source) = (path, last.progress, "the changelog")
                counters.restoredFromChangelog.add(1, ordering: .relaxed)
            } else {
                try? FileManager.default.removeItem(atPath: directory)
                counters.startedEmpty.add(1, ordering: .relaxed)
            }
        }
        // The end seen after the claim: the first commits need not ask the brokers for it.
        progress.changelogStart = max(progress.changelogStart, changelogEnd)
        commitsSinceStart[p] = 1
        let task = try PartitionTask(partition: p, directory: directory, inputPartitions: inputPartitions, progress: progress,
                                     restoreFrom: restoreFrom, build: build)
        owned[p] = Owned(task: task, producer: producer, epoch: epoch)
        logger.info("took \(options.repartitionTopic)[\(p)] at offset \(progress.position) with state from \(source) in \((monotonicNanos() - started) / 1_000_000) ms (pid \(getpid()))")
        // An empty state starts at offset 0 rather than at "the beginning", which librdkafka
        // resolves with a round trip and, on the mock cluster, a 500 ms back-off. (Where
        // retention removed offset 0, auto.offset.reset=earliest gives the same start.)
        return progress.position == KafkaOffset.beginning ? 0 : progress.position
    }

    /// Writes this process's claim on the partition to the changelog, before reading it: from
    /// here on, commits of earlier owners are void.
    private func claim(_ p: Int32, _ producer: KafkaProducer) throws -> UInt64 {
        let epoch = UInt64.random(in: 1...UInt64.max)
        var w = StateWriter()
        w.write(epoch)
        try producer.beginTransaction()
        try producer.produce(topic: options.changelogTopic, partition: p, key: Array("claim".utf8), value: w.bytes,
                             headers: [("vigil.epoch", Array(String(epoch, radix: 16).utf8))])
        try producer.commitTransaction()
        return epoch
    }

    /// The newest local checkpoint of a partition that has its commit's progress beside it.
    static func latestLocal(_ directory: String) -> (path: String, progress: PartitionProgress)? {
        let root = directory + "/checkpoints"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix("chk-") }.sorted(by: >)
        for name in names {
            let path = root + "/" + name
            guard let bytes = try? DurableFiles.read(path + "/" + progressFile),
                  let progress = try? PartitionProgress.decode(bytes),
                  (try? CheckpointStorage.validate(path)) != nil else { continue }
            return (path, progress)
        }
        return nil
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        for tp in partitions {
            do { try commit(tp.partition) } catch {
                logger.warning("handing over \(tp) without a final commit (\(error)); its next owner restores the last one")
            }
            owned[tp.partition] = nil
        }
    }

    func partitionsLost(_ partitions: [TopicPartition]) {
        // Another member may own them already: committing now could overwrite its work.
        for tp in partitions { owned[tp.partition] = nil }
    }
}
