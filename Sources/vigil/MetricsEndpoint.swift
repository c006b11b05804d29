import Foundation
import Ingest
import Stream
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The engine's own health in Prometheus text format (0.0.4) at `http://127.0.0.1:PORT/metrics`:
/// records in and out, backpressure time and late drops per task (a task is a chain of
/// operators), Kafka messages and dead letters, and completed checkpoints with their duration
/// and size; for a scaled-out job (`scaleOut`), its stages' counters instead. A small blocking
/// server on one thread: Prometheus scrapes every few seconds.
final class MetricsEndpoint: @unchecked Sendable {
    // @unchecked: `job` is set once before scrapes matter and read under `lock`.
    private let lock = NSLock()
    private var job: JobHandle?
    private let fd: Int32
    let port: Int
    /// Serve `ScaleOutCounters` (a `ScaleOutJob` has no `JobHandle` and its own Kafka clients).
    private let scaleOut: Bool

    /// Listens on localhost:`port` (0: any free port). Throws when the port is taken.
    init(port: Int, scaleOut: Bool = false) throws {
        self.scaleOut = scaleOut
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MetricsEndpointError("cannot create a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw MetricsEndpointError("cannot listen on 127.0.0.1:\(port) for /metrics: \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        let t = Thread { [self] in serve() }
        t.name = "vigil-metrics"
        t.start()
    }

    func attach(_ job: JobHandle) { lock.lock(); self.job = job; lock.unlock() }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { if errno == EINTR { continue }; return }
            // One client at a time: one that connects and says nothing must not stop the rest.
            var limit = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(client, &buffer, buffer.count, 0)
            let request = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            let response: String
            if request.hasPrefix("GET /metrics ") || request.hasPrefix("GET /metrics?") {
                let body = render()
                response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
            } else {
                response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            }
            let bytes = Array(response.utf8)
            let count = bytes.count
            var sent = 0
            while sent < count {
                let offset = sent
                let m = bytes.withUnsafeBytes { send(client, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
                if m <= 0 { break }
                sent += m
            }
            close(client)
        }
    }

    func render() -> String {
        if scaleOut { return Self.renderScaleOut(ScaleOutCounters.shared) }
        lock.lock(); let job = self.job; lock.unlock()
        var out = PrometheusText()
        if let job {
            let tasks = job.metrics.tasks
            out.counter("vigil_task_records_in_total", "Records a task has received.", tasks.map { (["task": $0.name], Double($0.recordsIn)) })
            out.counter("vigil_task_records_out_total", "Records a task has emitted.", tasks.map { (["task": $0.name], Double($0.recordsOut)) })
            out.counter("vigil_task_backpressure_seconds_total", "Time a task spent blocked on full output channels.",
                        tasks.map { (["task": $0.name], Double($0.backpressureNanos) / 1e9) })
            out.counter("vigil_task_late_records_dropped_total", "Records later than the allowed lateness, dropped and counted.",
                        tasks.map { (["task": $0.name], Double($0.lateRecordsDropped)) })
            // Event time behind the clock: how stale what the job is judging now is.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            out.gauge("vigil_task_watermark_lag_seconds", "Wall clock minus the task's newest watermark (tasks that have one).",
                      tasks.filter { $0.watermark != .min && $0.watermark != .max }.map { (["task": $0.name], Double(now - $0.watermark) / 1000) })
            let checkpoints = job.completedCheckpoints
            out.counter("vigil_checkpoints_completed_total", "Checkpoints completed by this run.", [([:], Double(checkpoints.count))])
            out.counter("vigil_checkpoints_failed_total", "Checkpoints this run gave up on (timeout, a task's state not written, metadata not written).",
                        [([:], Double(job.abortedCheckpoints))])
            if let last = checkpoints.last {
                out.gauge("vigil_checkpoint_last_duration_seconds", "Trigger to metadata written, of the newest checkpoint.", [([:], Double(last.durationNanos) / 1e9)])
                out.gauge("vigil_checkpoint_last_size_bytes", "Bytes written by the newest checkpoint.", [([:], Double(last.bytes))])
                out.gauge("vigil_checkpoint_last_id", "Id of the newest completed checkpoint.", [([:], Double(last.id))])
            }
        }
        let ingest = IngestCounters.shared
        out.counter("vigil_kafka_messages_total", "Kafka messages read.", [([:], Double(ingest.messages.load(ordering: .relaxed)))])
        out.counter("vigil_kafka_bytes_total", "Bytes of Kafka messages read.", [([:], Double(ingest.bytes.load(ordering: .relaxed)))])
        let lag = KafkaConsumerLag.shared.partitions
        out.gauge("vigil_kafka_consumer_lag_messages", "Messages between a source partition's position and its end (librdkafka's cached high watermark).",
                  lag.map { (["group": $0.group, "topic": $0.topic, "partition": String($0.partition)], Double($0.lag)) })
        out.counter("vigil_dead_letters_total", "Messages that could not be decoded, sent to the dead-letter topic.",
                    [([:], Double(ingest.deadLetters.load(ordering: .relaxed)))])
        return out.text
    }
}

extension MetricsEndpoint {
    /// A scaled-out job's stages: records through the shuffle and the stateful partitions, the
    /// partitions this process owns and where their state came from, commits, and where the
    /// job's thread spends its time.
    static func renderScaleOut(_ c: ScaleOutCounters) -> String {
        func value(_ a: borrowing Atomic<Int>) -> Double { Double(a.load(ordering: .relaxed)) }
        func seconds(_ a: borrowing Atomic<Int>) -> Double { Double(a.load(ordering: .relaxed)) / 1e9 }
        var out = PrometheusText()
        out.counter("vigil_scaleout_records_shuffled_total", "Records written to the repartition topic.", [([:], value(c.shuffled))])
        out.counter("vigil_scaleout_records_applied_total", "Records the stateful partitions applied.", [([:], value(c.applied))])
        out.counter("vigil_scaleout_records_repeated_total", "Records dropped as already applied (written again after a failover).", [([:], value(c.repeated))])
        out.counter("vigil_scaleout_records_late_total", "Records later than the allowed lateness, sent to the dead-letter topic.", [([:], value(c.late))])
        out.counter("vigil_scaleout_records_undecodable_total", "Input messages that could not be decoded, sent to the dead-letter topic.", [([:], value(c.undecodable))])
        out.gauge("vigil_scaleout_partitions_owned", "Stateful partitions this process owns now.", [([:], value(c.ownedPartitions))])
        out.counter("vigil_scaleout_partitions_restored_total", "Stateful partitions taken over, by where their state came from.", [
            (["from": "local"], value(c.restoredFromLocal)), (["from": "changelog"], value(c.restoredFromChangelog)), (["from": "empty"], value(c.startedEmpty)),
        ])
        out.counter("vigil_scaleout_commits_total", "Transactions committed by the stateful partitions (output, changelog, position).", [([:], value(c.commits))])
        out.counter("vigil_scaleout_commit_seconds_total", "Time spent committing (local checkpoint and transaction).", [([:], seconds(c.commitNanos))])
        out.counter("vigil_scaleout_busy_seconds_total", "Where the job's thread spent its time, by stage; idle: polls that found no message.", [
            (["stage": "input"], seconds(c.inputNanos)), (["stage": "stateful"], seconds(c.statefulNanos)), (["stage": "batches"], seconds(c.batchNanos)),
            (["stage": "commits"], seconds(c.commitLoopNanos)), (["stage": "idle"], seconds(c.waitNanos)),
        ])
        return out.text
    }
}

struct MetricsEndpointError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prometheus' text exposition format: HELP and TYPE once per family, escaped label values.
struct PrometheusText {
    private(set) var text = ""

    mutating func counter(_ name: String, _ help: String, _ samples: [([String: String], Double)]) { family(name, "counter", help, samples) }
    mutating func gauge(_ name: String, _ help: String, _ samples: [([String: String], Double)]) { family(name, "gauge", help, samples) }

    private mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [([String: String], Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples {
            let l = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
            text += name + (l.isEmpty ? "" : "{\(l)}") + " " + Self.number(value) + "\n"
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
