import CRdKafka
import Foundation
import Logging

/// Sends `KafkaConsumer`'s fetcher wake-up (a ListOffsets for its partitions) from a thread of
/// its own. The request waits for its answer (at most a second), and a source thread that
/// waited with it on a slow broker would hold back its records, timers and checkpoint
/// barriers for that long. Only the request's leaving matters (it wakes the broker threads),
/// so a wake-up asked for while one is in flight replaces any still waiting; none queue up.
final class FetcherWaker: @unchecked Sendable {
    private let handle: OpaquePointer
    private let logger: Logger
    private let condition = NSCondition()
    private var pending: [TopicPartition]?
    private var stopping = false
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    init(handle: OpaquePointer, logger: Logger) {
        self.handle = handle
        self.logger = logger
    }

    /// Asks for a wake-up of the brokers leading `partitions`; returns at once.
    func wake(_ partitions: [TopicPartition]) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return }
        pending = partitions
        if thread == nil {
            // Started on first use: most consumers never fill their queue.
            let t = Thread { [self] in run() }
            t.name = "kafka-wake"
            thread = t
            t.start()
        }
        condition.signal()
    }

    /// Waits for a request in flight to end; the consumer may be closed after this returns.
    func stop() {
        condition.lock()
        let started = thread != nil && !stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if started { stopped.wait() }
    }

    private func run() {
        while true {
            condition.lock()
            while pending == nil && !stopping { condition.wait() }
            let partitions = stopping ? nil : pending
            pending = nil
            condition.unlock()
            guard let partitions else { break }
            let list = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>.make(partitions.map { ($0, KafkaOffset.end) })
            let err = rd_kafka_offsets_for_times(handle, list, 1_000)
            rd_kafka_topic_partition_list_destroy(list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { logger.debug("waking the fetchers: \(KafkaError("ListOffsets", err: err))") }
        }
        stopped.signal()
    }
}
