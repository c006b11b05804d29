import CRdKafka
import Synchronization

/// A librdkafka producer. Idempotent by default (no duplicates or reordering from internal
/// retries). Delivery failures are not dropped: the first one is kept and thrown by the next
/// `flush` (and by `produce` once it is known), so a sink cannot checkpoint past a lost record.
public final class KafkaProducer: @unchecked Sendable {
    let handle: OpaquePointer
    private let deliveries: DeliveryReports
    public let isTransactional: Bool

    public init(properties: KafkaProperties) throws {
        var props: KafkaProperties = ["enable.idempotence": "true", "linger.ms": "5"]
        props = props.merging(properties)
        isTransactional = props["transactional.id"] != nil
        let conf = try props.makeConf()
        deliveries = DeliveryReports()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(deliveries).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let opaque else { return }
            let reports = Unmanaged<DeliveryReports>.fromOpaque(opaque).takeUnretainedValue()
            reports.record(message.pointee)
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("cannot create a Kafka producer: \(String(cString: errstr))")
        }
        handle = rk
    }

    deinit {
        rd_kafka_flush(handle, 2_000)
        rd_kafka_destroy(handle)
    }

    /// Records that could not be delivered so far.
    public var failedDeliveries: Int { deliveries.failures }

    /// Queues one record. Blocks (serving delivery reports) while librdkafka's queue is full,
    /// which is the producer's backpressure.
    public func produce(topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?,
                        value: UnsafeRawBufferPointer, headers: [(String, [UInt8])] = [], timestampMs: Int64? = nil) throws {
        if let failure = deliveries.firstFailure { throw failure }
        while true {
            let error: OpaquePointer? = topic.withCString { topicName in
                withVUs(topicName: topicName, partition: partition ?? KafkaOffset.unassignedPartition,
                        key: key, value: value, headers: headers, timestampMs: timestampMs) { vus in
                    rd_kafka_produceva(handle, vus.baseAddress, vus.count)
                }
            }
            guard let error else { return }
            if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_error_destroy(error)
                rd_kafka_poll(handle, 50)
                continue
            }
            throw KafkaError("cannot produce to \(topic)", error: error)
        }
    }

    public func produce(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8],
                        headers: [(String, [UInt8])] = [], timestampMs: Int64? = nil) throws {
        try value.withUnsafeBytes { v in
            if let key {
                try key.withUnsafeBytes { k in
                    try produce(topic: topic, partition: partition, key: k, value: v, headers: headers, timestampMs: timestampMs)
                }
            } else {
                try produce(topic: topic, partition: partition, key: nil, value: v, headers: headers, timestampMs: timestampMs)
            }
        }
    }

    /// Learns where the partitions of `topics` live now, rather than on the first record: a
    /// transactional producer's first commit otherwise waits for it (about half a second on
    /// librdkafka's mock cluster).
    public func fetchMetadata(topics: [String], timeoutMs: Int32 = 10_000) throws {
        for name in topics {
            guard let rkt = rd_kafka_topic_new(handle, name, nil) else { continue }
            defer { rd_kafka_topic_destroy(rkt) }
            var md: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle, 0, rkt, &md, timeoutMs)
            if let md { rd_kafka_metadata_destroy(md) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("reading the metadata of \(name)", err: err) }
        }
    }

    /// Serves delivery reports without blocking.
    public func poll() { rd_kafka_poll(handle, 0) }

    /// Waits until every queued record is delivered; throws the first delivery failure.
    public func flush(timeoutMs: Int32 = 60_000) throws {
        let err = rd_kafka_flush(handle, timeoutMs)
        if let failure = deliveries.firstFailure { throw failure }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError("records still undelivered after \(timeoutMs) ms", err: err)
        }
    }

    // MARK: transactions

    public func initTransactions(timeoutMs: Int32 = 60_000) throws {
        if let e = rd_kafka_init_transactions(handle, timeoutMs) { throw KafkaError("initialising transactions", error: e) }
    }
    public func beginTransaction() throws {
        if let e = rd_kafka_begin_transaction(handle) { throw KafkaError("beginning a transaction", error: e) }
    }
    /// Flushes and commits. A failure that needs an abort says so (`TransactionFailure`).
    public func commitTransaction(timeoutMs: Int32 = 60_000) throws {
        guard let e = rd_kafka_commit_transaction(handle, timeoutMs) else {
            deliveries.reset()
            return
        }
        let abortable = rd_kafka_error_txn_requires_abort(e) != 0
        let retriable = rd_kafka_error_is_retriable(e) != 0
        throw TransactionFailure(error: KafkaError("committing a transaction", error: e), requiresAbort: abortable, retriable: retriable)
    }
    public func abortTransaction(timeoutMs: Int32 = 60_000) throws {
        defer { deliveries.reset() }
        if let e = rd_kafka_abort_transaction(handle, timeoutMs) { throw KafkaError("aborting a transaction", error: e) }
    }

    public struct TransactionFailure: Error, CustomStringConvertible {
        public let error: KafkaError
        public let requiresAbort: Bool
        public let retriable: Bool
        public var description: String { error.description }
    }
}

/// Delivery reports, written by librdkafka's callback on whichever thread serves the producer.
final class DeliveryReports: @unchecked Sendable {
    private let state = Mutex<(failures: Int, first: KafkaError?)>((0, nil))

    func record(_ message: rd_kafka_message_t) {
        guard message.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        let topic = message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        let error = KafkaError("a record to \(topic) was not delivered", err: message.err)
        state.withLock {
            $0.failures += 1
            if $0.first == nil { $0.first = error }
        }
    }

    var failures: Int { state.withLock { $0.failures } }
    var firstFailure: KafkaError? { state.withLock { $0.first } }
    /// After an aborted or committed transaction the failures of the old one no longer apply.
    func reset() { state.withLock { $0.first = nil } }
}

/// Builds the `rd_kafka_vu_t` array of one produce call; every pointer is valid inside `body`.
private func withVUs<R>(topicName: UnsafePointer<CChar>, partition: Int32, key: UnsafeRawBufferPointer?,
                        value: UnsafeRawBufferPointer, headers: [(String, [UInt8])], timestampMs: Int64?,
                        _ body: (UnsafeBufferPointer<rd_kafka_vu_t>) -> R) -> R {
    var vus: [rd_kafka_vu_t] = []
    vus.reserveCapacity(5 + headers.count)
    var vu = rd_kafka_vu_t()
    vu.vtype = RD_KAFKA_VTYPE_TOPIC; vu.u.cstr = topicName; vus.append(vu)
    vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_PARTITION; vu.u.i32 = partition; vus.append(vu)
    vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS; vu.u.i = RD_KAFKA_MSG_F_COPY; vus.append(vu)
    vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_VALUE
    vu.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress); vu.u.mem.size = value.count; vus.append(vu)
    if let key {
        vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_KEY
        vu.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress); vu.u.mem.size = key.count; vus.append(vu)
    }
    if let timestampMs {
        vu = rd_kafka_vu_t(); vu.vtype = RD_KAFKA_VTYPE_TIMESTAMP; vu.u.i64 = timestampMs; vus.append(vu)
    }
    if headers.isEmpty { return vus.withUnsafeBufferPointer(body) }
    // librdkafka copies header names and values during the call; they live in one scratch
    // allocation until then.
    let size = headers.reduce(0) { $0 + $1.0.utf8.count + 1 + $1.1.count }
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
    defer { scratch.deallocate() }
    var at = 0
    for (name, value) in headers {
        let namePtr = scratch.baseAddress! + at
        for b in name.utf8 { scratch[at] = b; at += 1 }
        scratch[at] = 0; at += 1
        let valuePtr = scratch.baseAddress! + at
        for b in value { scratch[at] = b; at += 1 }
        var hv = rd_kafka_vu_t(); hv.vtype = RD_KAFKA_VTYPE_HEADER
        hv.u.header.name = UnsafePointer(namePtr.assumingMemoryBound(to: CChar.self))
        hv.u.header.val = UnsafeRawPointer(valuePtr)
        hv.u.header.size = value.count
        vus.append(hv)
    }
    return vus.withUnsafeBufferPointer(body)
}
