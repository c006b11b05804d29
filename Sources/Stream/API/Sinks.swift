#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The records a `collect()` sink received, readable from any thread (tests, examples).
public final class CollectedRecords<T: Sendable>: Sendable {
    private let storage = Mutex<[StreamRecord<T>]>([])
    public init() {}
    func append(_ r: StreamRecord<T>) { storage.withLock { $0.append(r) } }
    /// Values in arrival order (interleaved across subtasks).
    public var values: [T] { storage.withLock { $0.map(\.value) } }
    public var records: [StreamRecord<T>] { storage.withLock { $0 } }
    public var count: Int { storage.withLock { $0.count } }
    public func removeAll() { storage.withLock { $0.removeAll() } }
}

struct CollectWriter<T: Sendable>: SinkWriter {
    let target: CollectedRecords<T>
    func write(_ value: T, timestamp: Timestamp) throws { target.append(StreamRecord(value, timestamp: timestamp)) }
}

/// Prints records to standard output, prefixed by the subtask when parallel ("2> …"). Each
/// line is flushed at once: standard output to a pipe or file is block-buffered, and a
/// streaming job's findings (an incident) must not wait there for more output to come.
struct PrintWriter<T: Sendable>: SinkWriter {
    let prefix: String
    func write(_ value: T, timestamp: Timestamp) throws {
        print("\(prefix)\(value)")
        fflush(nil)
    }
}

/// Counts and forgets (benchmarks).
struct DiscardWriter<T: Sendable>: SinkWriter {
    let counter: DiscardCounter
    var count = 0
    mutating func write(_ value: T, timestamp: Timestamp) throws { count &+= 1 }
    mutating func finish() throws { counter.add(count) }
}

public final class DiscardCounter: Sendable {
    private let total = Atomic<Int>(0)
    public init() {}
    func add(_ n: Int) { total.add(n, ordering: .relaxed) }
    /// Records discarded by finished sink subtasks.
    public var count: Int { total.load(ordering: .relaxed) }
}

/// Writes one line per record to `<directory>/part-<subtask>`. Not transactional: after a
/// failure the files may hold records that will be produced again (at-least-once).
struct LinesFileWriter<T: Sendable>: SinkWriter {
    struct WriteError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot write '\(path)': \(reason)" }
    }
    let path: String
    let file: UnsafeMutablePointer<FILE>
    let format: @Sendable (T) -> String

    init(directory: String, subtask: Int, format: @escaping @Sendable (T) -> String) throws {
        mkdir(directory, 0o755)
        path = "\(directory)/part-\(subtask)"
        guard let f = fopen(path, "w") else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        file = f
        self.format = format
    }

    func write(_ value: T, timestamp: Timestamp) throws {
        var line = format(value)
        line.append("\n")
        let ok = line.withCString { fputs($0, file) } >= 0
        if !ok { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
    }

    func finish() throws {
        guard fflush(file) == 0, fsync(fileno(file)) == 0 else {
            throw WriteError(path: path, reason: String(cString: strerror(errno)))
        }
        fclose(file)
    }
}

extension DataStream {
    /// Collects every record into the returned object.
    public func collect(name: String = "collect", parallelism: Int? = nil) -> CollectedRecords<T> {
        let target = CollectedRecords<T>()
        sink(name: name, parallelism: parallelism) { _, _ in CollectWriter(target: target) }
        return target
    }

    public func print(name: String = "print", parallelism: Int? = nil) {
        sink(name: name, parallelism: parallelism) { s, p in PrintWriter<T>(prefix: p > 1 ? "\(s + 1)> " : "") }
    }

    /// Drops every record; the counter says how many arrived once the job finished.
    @discardableResult
    public func discard(name: String = "discard", parallelism: Int? = nil) -> DiscardCounter {
        let counter = DiscardCounter()
        sink(name: name, parallelism: parallelism) { _, _ in DiscardWriter<T>(counter: counter) }
        return counter
    }

    /// Writes each record as a line to `directory/part-<subtask>`.
    public func writeLines(to directory: String, name: String = "file", parallelism: Int? = nil,
                           format: @escaping @Sendable (T) -> String = { "\($0)" }) {
        sink(name: name, parallelism: parallelism) { s, _ in try LinesFileWriter(directory: directory, subtask: s, format: format) }
    }
}
