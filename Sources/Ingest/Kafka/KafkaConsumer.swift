import CRdKafka
import Logging

/// Told by a consumer when the group hands partitions to it or takes them away. Called on
/// the thread that polls the consumer, inside `poll`.
protocol RebalanceHandler: AnyObject {
    /// The offset to start each newly assigned partition at (or `KafkaOffset.invalid`: the
    /// group's committed offset, else `auto.offset.reset`).
    func partitionsAssigned(_ partitions: [TopicPartition]) -> [Int64]
    /// The group takes the partitions away; the member may still commit what it did with them.
    func partitionsRevoked(_ partitions: [TopicPartition])
    /// The partitions were lost with the member's session: another member may own them
    /// already, so nothing may be committed for them any more.
    func partitionsLost(_ partitions: [TopicPartition])
}
extension RebalanceHandler {
    func partitionsLost(_ partitions: [TopicPartition]) { partitionsRevoked(partitions) }
}

/// A consumer group member over librdkafka. Offsets are never committed automatically: the
/// owner commits what a completed checkpoint covers. Assignment follows the configured
/// strategy, cooperative-sticky by default, so a rebalance only moves the partitions that
/// must move.
final class KafkaConsumer: @unchecked Sendable {
    let handle: OpaquePointer
    /// Internal, not private, for `KafkaRebalanceProtocolTests`.
    let listener: RebalanceListener
    private let logger: Logger
    /// The `session.timeout.ms` this member asks the group coordinator for.
    let sessionTimeoutMs: Int
    /// The partitions assigned to this member now.
    private(set) var assignment: Set<TopicPartition> { get { listener.assignment } set { listener.assignment = newValue } }

    init(properties: KafkaProperties, logger: Logger = Logger(label: "vigil.kafka")) throws {
        let props = KafkaProperties.effectiveConsumerProperties(properties)
        guard props["group.id"] != nil else { throw KafkaError("a Kafka consumer needs group.id") }
        sessionTimeoutMs = props["session.timeout.ms"].flatMap { Int($0) } ?? 45_000
        fetcherWakeBytes = (props["queued.max.messages.kbytes"].flatMap { Int($0) } ?? 65_536) * 512
        let conf = try props.makeConf()
        listener = RebalanceListener(logger: logger, assignors: props["partition.assignment.strategy"] ?? "range,roundrobin")
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(listener).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            guard let rk, let partitions, let opaque else { return }
            Unmanaged<RebalanceListener>.fromOpaque(opaque).takeUnretainedValue().rebalance(rk, err, partitions)
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("cannot create a Kafka consumer: \(String(cString: errstr))")
        }
        handle = rk
        self.logger = logger
        waker = FetcherWaker(handle: rk, logger: logger)
        rd_kafka_poll_set_consumer(rk)
    }

    private var closed = false
    private var subscribed = false

    /// Subscribed, but no rebalance has reached this member yet: it may have joined its group
    /// (an assignor chosen) without a completed SyncGroup. librdkafka calls the rebalance
    /// callback after every completed SyncGroup, an empty assignment included.
    var assignmentNeverCompleted: Bool { subscribed && !listener.rebalanced }

    deinit {
        close()
        // librdkafka before 2.2.1 aborts the process in `rd_kafka_destroy` when a member has
        // joined but never completed a SyncGroup (issue #4312: the cooperative-sticky
        // assignor's state is NULL and its destructor asserts it is not). Such a member (one
        // stopped in the middle of its first rebalance) has left its group in `close`; its
        // handle is not destroyed: the threads end with the process.
        if assignmentNeverCompleted {
            logger.notice("not destroying a consumer that never completed its first rebalance (librdkafka issue #4312)")
            // The handle keeps a pointer to the listener (its opaque): keep that alive too.
            _ = Unmanaged.passRetained(listener)
            return
        }
        rd_kafka_destroy(handle)
    }

    /// Who decides start offsets and hears of revocations. Set before the first poll.
    var rebalanceHandler: (any RebalanceHandler)? {
        get { listener.handler }
        set { listener.handler = newValue }
    }

    func subscribe(_ topics: [String]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for t in topics { rd_kafka_topic_partition_list_add(list, t, KafkaOffset.unassignedPartition) }
        subscribed = true
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("subscribing to \(topics)", err: err) }
    }

    /// The next message or event, or nil after `timeoutMs`. Rebalances happen in here. The
    /// caller destroys the message.
    @inline(__always)
    func poll(timeoutMs: Int32) throws -> UnsafeMutablePointer<rd_kafka_message_t>? {
        if let failure = listener.failure {
            listener.failure = nil
            throw failure
        }
        if let m = rd_kafka_consumer_poll(handle, timeoutMs) {
            bytesSinceEmpty &+= m.pointee.len
            return m
        }
        if bytesSinceEmpty >= fetcherWakeBytes { wakeFetchers() }
        bytesSinceEmpty = 0
        return nil
    }

    /// Payload bytes taken from the local queue since it was last found empty.
    private var bytesSinceEmpty = 0
    /// Half of `queued.max.messages.kbytes`: a queue that held that much may have stopped the
    /// fetchers.
    private let fetcherWakeBytes: Int
    /// How often `wakeFetchers` ran (for tests and the benchmark).
    private(set) var fetcherWakes = 0
    private let waker: FetcherWaker

    /// librdkafka 2.0 stops fetching while the consumer's queue holds more than
    /// `queued.max.messages.kbytes`, and its broker threads decide again only when something
    /// wakes them: a response, a request to send, or their one-second timer. A reader that
    /// drained a full queue would wait out that timer (0.9 s measured), so it sends a request:
    /// a ListOffsets for the assigned partitions reaches every broker that leads one of them,
    /// and each then resumes fetching before the answer comes back. librdkafka 2.1 has
    /// `fetch.queue.backoff.ms` for this. The request goes from `FetcherWaker`'s thread: this
    /// one does not wait for the answer.
    private func wakeFetchers() {
        let partitions = Array(assignment)
        guard !partitions.isEmpty else { return }
        fetcherWakes += 1
        waker.wake(partitions)
    }

    /// Up to `limit` messages, waiting at most `timeoutMs` for the first. `body` gets each
    /// message (not events) and says whether it counted toward the limit. Partition ends are
    /// skipped; other errors are logged (librdkafka retries them), and a fatal one is thrown.
    func pollMessages(limit: Int, timeoutMs: Int32,
                      _ body: (UnsafeMutablePointer<rd_kafka_message_t>) throws -> Bool) throws -> Int {
        var read = 0
        var timeout = timeoutMs
        while read < limit {
            guard let m = try poll(timeoutMs: timeout) else { break }
            timeout = 0
            defer { rd_kafka_message_destroy(m) }
            let err = m.pointee.err
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if err != RD_KAFKA_RESP_ERR__PARTITION_EOF { try handleError(err) }
                continue
            }
            if try body(m) { read += 1 }
        }
        return read
    }

    /// An error event from `poll`: thrown when the consumer cannot go on (a fatal error, or a
    /// coordinator that refuses the session timeout: librdkafka would ask again forever),
    /// logged otherwise (brokers down, a leader moving: librdkafka retries by itself).
    func handleError(_ err: rd_kafka_resp_err_t) throws {
        let error = KafkaError("Kafka consumer", err: err)
        if err == RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT {
            throw KafkaError("the group coordinator refuses session.timeout.ms=\(sessionTimeoutMs) (the brokers' "
                             + "group.min.session.timeout.ms and group.max.session.timeout.ms bound it)", code: error.code)
        }
        if rd_kafka_fatal_error(handle, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError("the Kafka consumer cannot go on: \(error)", code: error.code, isFatal: true)
        }
        logger.warning("\(error)")
    }

    /// Commits `offsets` (the next offset to read, per partition) to the group.
    func commit(_ offsets: [(TopicPartition, Int64)], async: Bool) throws {
        guard !offsets.isEmpty else { return }
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, async ? 1 : 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("committing offsets", err: err) }
    }

    /// The group's committed offsets (`KafkaOffset.invalid` where there is none).
    func committed(_ partitions: [TopicPartition], timeoutMs: Int32 = 10_000) throws -> [Int64] {
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(partitions.map { ($0, KafkaOffset.invalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(handle, list, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("reading committed offsets", err: err) }
        return list.elements.map { $0.0.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR ? $0.0.pointee.offset : KafkaOffset.invalid }
    }

    /// The first offset whose timestamp is at or after `timestampMs`, per partition (the end
    /// offset where there is none).
    func offsetsForTimes(_ partitions: [TopicPartition], timestampMs: Int64, timeoutMs: Int32 = 10_000) throws -> [Int64] {
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(partitions.map { ($0, timestampMs) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_for_times(handle, list, Int32(timeoutMs))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("looking up offsets for time \(timestampMs)", err: err) }
        return list.elements.map { $0.0.pointee.offset < 0 ? KafkaOffset.end : $0.0.pointee.offset }
    }

    /// The offset each of `starts` names now (`KafkaOffset.beginning`: the partition's first
    /// offset; `.end`: the offset after its last message), or a negative value where the broker
    /// did not say. One ListOffsets request per broker, which takes these two values as they are.
    func logicalOffsets(_ starts: [(TopicPartition, Int64)], timeoutMs: Int32 = 10_000) throws -> [Int64] {
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(starts)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_for_times(handle, list, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("looking up the partitions' first and end offsets", err: err) }
        return list.elements.map { $0.0.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR ? $0.0.pointee.offset : -1 }
    }

    /// The first offset each partition still has and the offset after its last message, now.
    func watermarks(_ partitions: [TopicPartition], timeoutMs: Int32 = 10_000) throws -> [(low: Int64, high: Int64)] {
        try partitions.map { tp in
            var low: Int64 = 0, high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, timeoutMs)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("reading the offsets of \(tp)", err: err) }
            return (low, high)
        }
    }

    /// Reads exactly these partitions from these offsets, outside any group's assignment.
    func assign(_ offsets: [(TopicPartition, Int64)]) throws {
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("assigning \(summary(offsets.map(\.0)))", err: err) }
    }

    /// Stops fetching these partitions (their messages are not wanted any more).
    func pause(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(partitions.map { ($0, KafkaOffset.invalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_pause_partitions(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { logger.warning("cannot pause \(summary(partitions)): \(KafkaError("pausing", err: err))") }
    }

    /// Leaves the group now (revoking this member's partitions) rather than when the session
    /// times out.
    func close() {
        guard !closed else { return }
        closed = true
        waker.stop()
        rd_kafka_consumer_close(handle)
    }
}

/// The C rebalance callback's target.
final class RebalanceListener {
    weak var handler: (any RebalanceHandler)?
    var assignment: Set<TopicPartition> = []
    /// A rebalance (assignment or revocation) has reached this member.
    var rebalanced = false
    /// An assignment librdkafka refused: thrown by the next poll.
    var failure: KafkaError?
    let logger: Logger
    /// The configured `partition.assignment.strategy`.
    let assignors: String

    init(logger: Logger, assignors: String) {
        self.logger = logger
        self.assignors = assignors
    }

    func rebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
                   _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        rebalanced = true
        let cooperative = RebalanceProtocol.isCooperative(reported: rd_kafka_rebalance_protocol(rk), assignors: assignors)
        let elements = list.elements
        let partitions = elements.map(\.1)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let offsets = handler?.partitionsAssigned(partitions) ?? partitions.map { _ in KafkaOffset.invalid }
            for (i, e) in elements.enumerated() { e.0.pointee.offset = offsets[i] }
            assignment.formUnion(partitions)
            logger.info("assigned \(summary(partitions))")
            if cooperative {
                if let e = rd_kafka_incremental_assign(rk, list) { failure = KafkaError("taking the assigned partitions", error: e) }
            } else {
                let r = rd_kafka_assign(rk, list)
                if r != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError("taking the assigned partitions", err: r) }
            }
        default:
            // REVOKE_PARTITIONS, or an error: either way the partitions are no longer ours.
            let lost = rd_kafka_assignment_lost(rk) != 0
            if lost { handler?.partitionsLost(partitions) } else { handler?.partitionsRevoked(partitions) }
            assignment.subtract(partitions)
            logger.info("\(lost ? "lost" : "revoked") \(summary(partitions))")
            if cooperative {
                if let e = rd_kafka_incremental_unassign(rk, list) { failure = KafkaError("giving up revoked partitions", error: e) }
            } else {
                rd_kafka_assign(rk, nil)
                assignment = []
            }
        }
    }
}

enum RebalanceProtocol {
    /// Whether the group rebalances cooperatively (incremental assign and unassign). librdkafka
    /// reports the protocol, or NULL once the consumer's group handler has stopped (a consumer
    /// closing or closed): a revocation that reached the callback then crashed a stopped
    /// `vigil window-count`. The configured assignors decide then; librdkafka requires them all
    /// to share one protocol.
    static func isCooperative(reported: UnsafePointer<CChar>?, assignors: String) -> Bool {
        if let reported { return String(cString: reported) == "COOPERATIVE" }
        return assignors.split(separator: ",").contains { $0.filter { $0 != " " } == "cooperative-sticky" }
    }
}

/// A readable list of partitions, shortened when long.
func summary(_ partitions: [TopicPartition]) -> String {
    let shown = partitions.prefix(8).map(\.description).joined(separator: ", ")
    return partitions.count <= 8 ? shown : "\(partitions.count) partitions (\(shown), …)"
}
