import Foundation
import Ingest
import RCA

/// Runs the `DemoApplication` against Kafka: its spans and logs as OTLP export requests on
/// the Collector's topics, in event time that runs `speed` times faster than the clock, so
/// that ten minutes of normal traffic (what the detectors learn from), the fault, and the
/// calm after it pass in well under a minute. Timestamps end near the present.
public final class DemoWorkload: @unchecked Sendable {
    // @unchecked: the thread owns `application`; the rest is set before it starts or is atomic
    // through `lock`.
    public struct Schedule: Sendable {
        public var historyMs: Int64 = 600_000
        public var faultMs: Int64 = 180_000
        public var afterMs: Int64 = 300_000
        public var requestsPerSecond = 20
        public var speed = 40.0
        public init() {}
        var totalMs: Int64 { historyMs + faultMs + afterMs }
    }

    public let schedule: Schedule
    public let startMs: Int64
    public var faultStartMs: Int64 { startMs + schedule.historyMs }
    public var faultEndMs: Int64 { faultStartMs + schedule.faultMs }
    public let fault: DemoApplication.Fault
    private let producer: KafkaProducer
    private let spansTopic: String, logsTopic: String
    private var application: DemoApplication
    private let lock = NSLock()
    private var stopped = false
    private var producedUntil: Int64
    private var error: Error?
    private let done = DispatchSemaphore(value: 0)

    public init(brokers: String, fault: DemoApplication.Fault, schedule: Schedule = Schedule(),
                spansTopic: String = OTLPTopics.spans, logsTopic: String = OTLPTopics.logs, properties: KafkaProperties = [:]) throws {
        self.schedule = schedule
        self.fault = fault
        startMs = Int64(Date().timeIntervalSince1970 * 1000) - schedule.totalMs
        producedUntil = startMs
        application = DemoApplication(fault: fault, faultStartMs: startMs + schedule.historyMs,
                                      faultEndMs: startMs + schedule.historyMs + schedule.faultMs)
        producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers).merging(properties))
        self.spansTopic = spansTopic
        self.logsTopic = logsTopic
    }

    /// Event time produced so far.
    public var eventTime: Int64 { lock.lock(); defer { lock.unlock() }; return producedUntil }

    public func start() {
        let t = Thread { [self] in
            do { try run() } catch { lock.lock(); self.error = error; lock.unlock() }
            done.signal()
        }
        t.name = "vigil-demo"
        t.start()
    }

    public func stop() { lock.lock(); stopped = true; lock.unlock() }

    /// Waits until everything is produced (or it failed).
    public func wait() throws {
        done.wait()
        done.signal()
        lock.lock(); defer { lock.unlock() }
        if let error { throw error }
    }

    private func run() throws {
        let began = Date()
        let end = startMs + schedule.totalMs
        let step = 1000 / Int64(max(1, schedule.requestsPerSecond))
        var t = startMs
        var spans: [ObservedSpan] = [], logs: [RawLog] = []
        while t < end {
            lock.lock(); let stop = stopped; lock.unlock()
            if stop { break }
            // Event time may run `speed` times ahead of the clock, no further.
            let allowed = startMs + Int64(Date().timeIntervalSince(began) * 1000 * schedule.speed)
            if t >= allowed { Thread.sleep(forTimeInterval: 0.02); continue }
            let until = min(end, allowed, t + 5_000)
            while t < until {
                application.request(at: t, spans: &spans, logs: &logs)
                t += step
            }
            // As the Collector batches: a few hundred records per export request.
            for chunk in stride(from: 0, to: spans.count, by: 400) {
                try producer.produce(topic: spansTopic, key: nil, value: try OTLPReplay.encodeSpans(Array(spans[chunk..<min(spans.count, chunk + 400)])))
            }
            for chunk in stride(from: 0, to: logs.count, by: 400) {
                try producer.produce(topic: logsTopic, key: nil, value: try OTLPReplay.encodeLogs(Array(logs[chunk..<min(logs.count, chunk + 400)])))
            }
            spans.removeAll(keepingCapacity: true)
            logs.removeAll(keepingCapacity: true)
            producer.poll()
            lock.lock(); producedUntil = t; lock.unlock()
        }
        try producer.flush()
    }
}
