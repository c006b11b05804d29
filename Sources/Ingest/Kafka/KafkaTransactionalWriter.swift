import Foundation
import Logging
import Stream

/// Exactly-once output to Kafka, as a two-phase commit with the job's checkpoints.
///
/// Records of a checkpoint interval are buffered; at the barrier they are written to a
/// durable staging file (the pre-commit); when the checkpoint completes they are produced in
/// one Kafka transaction together with a marker record `<transactional id> → checkpoint`
/// in the markers topic, and committed. Why stage locally instead of keeping a Kafka
/// transaction open across the checkpoint: librdkafka cannot resume a transaction after a
/// crash (a restarted producer aborts it), so output pre-committed in Kafka alone would be
/// lost if the process died between checkpoint completion and commit. The staging file
/// survives; the markers say whether its transaction already reached Kafka, which makes
/// commit idempotent. The cost: output becomes visible at checkpoint completion (as with any
/// read_committed consumer of a transactional sink) and is written once more to local disk.
public struct KafkaTransactionalWriter<T: Sendable>: TwoPhaseCommitWriter {
    public struct Transaction: StateCodable, Sendable {
        /// The transactional id of the subtask that wrote it (its key in the markers topic).
        public var markerKey: String
        public var checkpoint: Int64
        public func encode(to w: inout StateWriter) { w.write(markerKey); w.write(checkpoint) }
        public static func decode(from r: inout StateReader) throws -> Transaction {
            Transaction(markerKey: try r.readString(), checkpoint: try r.read())
        }
    }

    let options: KafkaSinkOptions
    let staging: String
    let markerKey: String
    let encode: @Sendable (T) -> KafkaOutputRecord
    private let session: TransactionalSession
    private var buffer = StateWriter()
    private var buffered = 0

    public init(options: KafkaSinkOptions, subtask: Int, encode: @escaping @Sendable (T) -> KafkaOutputRecord) throws {
        guard let staging = options.stagingDirectory else {
            throw KafkaError("an exactly-once Kafka sink needs a staging directory (KafkaSinkOptions.stagingDirectory)")
        }
        try DurableFiles.makeDirectory(staging)
        self.options = options
        self.staging = staging
        self.markerKey = "\(options.transactionalIDPrefix)-\(subtask)"
        self.encode = encode
        self.session = TransactionalSession(options: options, transactionalID: markerKey)
    }

    func stagedPath(_ t: Transaction) -> String { "\(staging)/\(t.markerKey)-\(t.checkpoint).staged" }

    public mutating func write(_ value: T, timestamp: Timestamp) throws {
        let r = encode(value)
        buffer.writeVarint(Int(r.partition ?? -1) + 1)
        if let key = r.key { buffer.writeVarint(1); buffer.write(bytes: key) } else { buffer.writeVarint(0) }
        buffer.write(bytes: r.value)
        buffered += 1
    }

    public mutating func preCommit(checkpointID: Int64) throws -> Transaction? {
        guard buffered > 0 else { return nil }
        let t = Transaction(markerKey: markerKey, checkpoint: checkpointID)
        var file = StateWriter()
        file.writeVarint(buffered)
        buffer.withUnsafeBytes { file.append(raw: $0) }
        try DurableFiles.write(file.bytes, to: stagedPath(t))
        buffer.reset()
        buffered = 0
        return t
    }

    public func commit(_ t: Transaction) throws {
        try session.open()
        if session.lastCommitted(t.markerKey) >= t.checkpoint {
            try? FileManager.default.removeItem(atPath: stagedPath(t))  // committed before a crash
            return
        }
        guard FileManager.default.fileExists(atPath: stagedPath(t)) else {
            throw CheckpointFailure("the output of checkpoint \(t.checkpoint) (\(t.markerKey)) is lost: \(stagedPath(t)) is missing and the markers topic \(options.markersTopic) shows no commit of it")
        }
        let bytes = try DurableFiles.read(stagedPath(t))
        try session.commitInTransaction(marker: t) { producer, provenance in
            var r = StateReader(bytes)
            for _ in 0..<(try r.readVarint()) {
                let partition = try r.readVarint() - 1
                let key = try r.readVarint() == 0 ? nil : Array(try r.readBytes())
                let value = try r.readBytes()
                try value.withUnsafeBytes { v in
                    try key.withOptionalBytes { k in
                        try producer.produce(topic: options.topic, partition: partition < 0 ? nil : Int32(partition), key: k, value: v,
                                             headers: provenance)
                    }
                }
            }
        }
        try? FileManager.default.removeItem(atPath: stagedPath(t))
    }

    /// Removes staged output nobody will commit: what was staged after the restored checkpoint
    /// (its records are replayed from the source), what the markers show committed already (a
    /// crash came between commit and delete), and half-written `.staged.tmp` files. Staged
    /// output of the restored checkpoint or before it that is not committed yet stays: after a
    /// rescale another subtask may be committing it right now. Subtask 0 also looks after the
    /// files of subtasks that no longer exist.
    public mutating func recover(restoredCheckpoint: Int64?, keeping: [Transaction], subtask: Int, parallelism: Int) throws {
        try session.open()
        // A fresh start numbers its checkpoints from 1 again: markers an earlier run left must
        // not pass this run's transactions off as committed.
        if restoredCheckpoint == nil { session.forgetEarlierRuns() }
        let prefix = options.transactionalIDPrefix + "-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] where name.hasPrefix(prefix) {
            guard let staged = StagedName(name, prefix: prefix) else { continue }
            guard staged.owner == subtask || (subtask == 0 && staged.owner >= parallelism) else { continue }
            let uncovered = restoredCheckpoint.map { staged.checkpoint > $0 } ?? true
            let alreadyCommitted = session.lastCommitted(staged.markerKey) >= staged.checkpoint
            if staged.halfWritten || uncovered || alreadyCommitted {
                try? FileManager.default.removeItem(atPath: staging + "/" + name)
            }
        }
        try DurableFiles.syncDirectory(staging)
    }
}

/// `<prefix>-<subtask>-<checkpoint>.staged[.tmp]`, as `stagedPath` names them.
struct StagedName {
    var markerKey: String
    var owner: Int
    var checkpoint: Int64
    var halfWritten: Bool

    init?(_ name: String, prefix: String) {
        halfWritten = name.hasSuffix(".staged.tmp")
        guard halfWritten || name.hasSuffix(".staged") else { return nil }
        let stem = name.dropLast(halfWritten ? ".staged.tmp".count : ".staged".count)
        guard let dash = stem.lastIndex(of: "-"), let checkpoint = Int64(stem[stem.index(after: dash)...]),
              let owner = Int(stem[..<dash].dropFirst(prefix.count)) else { return nil }
        markerKey = String(stem[..<dash])
        self.owner = owner
        self.checkpoint = checkpoint
    }
}

extension Optional where Wrapped == [UInt8] {
    func withOptionalBytes<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard let self else { return try body(nil) }
        return try self.withUnsafeBytes { try body($0) }
    }
}

/// The transactional producer of one sink subtask and what the markers topic says was
/// committed. Opened lazily, on the first commit or recovery: opening fences any producer a
/// previous run left with the same transactional id (its open transaction is aborted).
final class TransactionalSession: @unchecked Sendable {
    let options: KafkaSinkOptions
    let transactionalID: String
    private var producer: KafkaProducer?
    private var committed: [String: Int64] = [:]
    private let logger = Logger(label: "vigil.kafka.sink")

    init(options: KafkaSinkOptions, transactionalID: String) {
        self.options = options
        self.transactionalID = transactionalID
    }

    func open() throws {
        guard producer == nil else { return }
        var props = options.producerProperties
        props["transactional.id"] = transactionalID
        let p = try KafkaProducer(properties: props)
        try p.initTransactions()
        do {
            try KafkaAdmin.createTopics(brokers: options.brokers, [(options.markersTopic, 1, ["cleanup.policy": "compact"])],
                                        properties: options.properties, timeoutMs: 5_000)
        } catch {
            // librdkafka's mock cluster does not implement CreateTopics; brokers that allow it
            // create the topic on first use. Where neither works, producing the marker fails
            // with an error naming the topic.
            logger.warning("cannot create the markers topic \(options.markersTopic) (\(error)); relying on the broker to create it")
        }
        for (key, value) in try KafkaAdmin.readToEnd(brokers: options.brokers, topic: options.markersTopic,
                                                     readCommitted: true, properties: options.properties) {
            guard let key, let checkpoint = Int64(String(decoding: value, as: UTF8.self).prefix { $0 != " " }) else { continue }
            let k = String(decoding: key, as: UTF8.self)
            committed[k] = max(committed[k] ?? -1, checkpoint)
        }
        producer = p
    }

    func lastCommitted(_ markerKey: String) -> Int64 { committed[markerKey] ?? -1 }

    func forgetEarlierRuns() { committed.removeAll() }

    /// A retriable commit failure (a timeout, say) may have committed already: retry the
    /// commit itself, never abort and produce again, which could write the output twice.
    private func commitRetryingInPlace(_ producer: KafkaProducer) throws {
        var tries = 0
        while true {
            do {
                try producer.commitTransaction()
                return
            } catch let failure as KafkaProducer.TransactionFailure where failure.retriable && !failure.requiresAbort && tries < 10 {
                tries += 1
                logger.warning("committing a transaction failed (\(failure)); retrying the commit")
            }
        }
    }

    /// Produces what `body` writes and the marker of `marker` in one transaction, and commits
    /// it. A failure that needs an abort is retried from the start (the staged file is still
    /// there); a retriable commit failure retries the commit.
    ///
    /// Every record carries a header `vigil.txn: <marker key>/<checkpoint>/<attempt>`, and the
    /// marker's value is `<checkpoint> <attempt>`: a record belongs to a committed transaction
    /// exactly when its header matches a marker. Real Kafka hides aborted records from
    /// read_committed consumers by itself; librdkafka's mock cluster does not (it shows the
    /// records of a transaction that a crash left open), so tests check output against the
    /// markers — and so can anyone auditing where a record came from.
    func commitInTransaction(marker: KafkaTransactionalWriter<some Sendable>.Transaction,
                             _ body: (KafkaProducer, [(String, [UInt8])]) throws -> Void) throws {
        guard let producer else { throw KafkaError("the transactional producer is not open") }
        var attempt = 0
        while true {
            attempt += 1
            let attemptID = String(UInt64.random(in: 1...UInt64.max), radix: 16)
            do {
                try producer.beginTransaction()
                try body(producer, [("vigil.txn", Array("\(marker.markerKey)/\(marker.checkpoint)/\(attemptID)".utf8))])
                // The marker goes last, once every record is on the brokers: where aborted
                // records stay visible (the mock cluster), a visible marker then still means
                // every record of its attempt is there too.
                try producer.flush()
                try producer.produce(topic: options.markersTopic, partition: 0, key: Array(marker.markerKey.utf8),
                                     value: Array("\(marker.checkpoint) \(attemptID)".utf8))
                try commitRetryingInPlace(producer)
                committed[marker.markerKey] = marker.checkpoint
                return
            } catch let failure as KafkaProducer.TransactionFailure where failure.requiresAbort && attempt < 5 {
                logger.warning("transaction for checkpoint \(marker.checkpoint) failed (\(failure)); aborting and retrying")
                try? producer.abortTransaction()
            } catch let error as KafkaError where !error.isFatal && attempt < 5 {
                logger.warning("transaction for checkpoint \(marker.checkpoint) failed (\(error)); aborting and retrying")
                try? producer.abortTransaction()
            }
        }
    }
}
