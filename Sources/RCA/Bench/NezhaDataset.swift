import Foundation
import Detectors

/// The Nezha TrainTicket fault cases (`cases.csv` plus the gzipped trace, log and metric CSVs it
/// names), converted as the dataset's README says: a trace row is a span of the service named
/// by its pod, a log row a log line of that span, a metric row a set of gauges of the pod.
public enum NezhaDataset {
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// How long after the injection the incident window runs (the dataset's faults last about
    /// three minutes).
    public static let faultSeconds: Int64 = 180

    /// Damaged CSV lines skipped while loading (each one counted, none silently).
    public static var skippedLines: Int { CSVTable.skipped.count }

    public static func isLayout(_ dir: URL) -> Bool {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent("rca_data").path)
    }

    public static func load(_ dir: URL) throws -> [RCACase] {
        let rows = try CSVTable(path: dir.appendingPathComponent("cases.csv").path)
        return try rows.records.map { try loadCase($0, rows: rows, dir: dir) }
    }

    static func loadCase(_ r: [String], rows: CSVTable, dir: URL) throws -> RCACase {
        let id = try rows.value(r, "case_id"), day = try rows.value(r, "date")
        guard let inject = Int64(try rows.value(r, "inject_unix")) else { throw Malformed(description: "\(id): inject_unix is not a number") }
        var records: [ReplayRecord] = []
        let reference = try rows.value(r, "normal_reference_minute")
        let construct = dir.appendingPathComponent("construct_data/\(day)")
        try records += spans(construct.appendingPathComponent("trace/\(reference)_trace.csv.gz").path)
        try records += logs(construct.appendingPathComponent("log/\(reference)_log.csv.gz").path)
        let data = dir.appendingPathComponent("rca_data/\(day)")
        for minute in try rows.value(r, "minute_files").split(separator: ";") {
            try records += spans(data.appendingPathComponent("trace/\(minute)_trace.csv.gz").path)
            try records += logs(data.appendingPathComponent("log/\(minute)_log.csv.gz").path)
        }
        let metricDir = data.appendingPathComponent("metric")
        for file in try FileManager.default.contentsOfDirectory(atPath: metricDir.path).sorted() where file.hasSuffix("_metric.csv.gz") {
            try records += metrics(metricDir.appendingPathComponent(file).path, from: inject - 660, to: inject + faultSeconds + 60)
        }
        records.sort { $0.timeNanos < $1.timeNanos }
        var c = RCACase(id: id, group: try rows.value(r, "fault_type"), rootCause: try rows.value(r, "root_cause_service"),
                        incidentStart: inject * 1000, incidentEnd: (inject + faultSeconds) * 1000, records: records)
        c.fineLabel = try rows.value(r, "inner_service_label")
        return c
    }

    /// `ts-basic-service-5dc8d4f9fd-46997` → `ts-basic-service`.
    static func service(ofPod pod: String) -> String {
        let parts = pod.split(separator: "-")
        return parts.count > 2 ? parts.dropLast(2).joined(separator: "-") : pod
    }

    static func spans(_ path: String) throws -> [ReplayRecord] {
        let t = try CSVTable(path: path)
        let (tid, sid, pid, pod, op, start, end) = try (t.column("TraceID"), t.column("SpanID"), t.column("ParentID"), t.column("PodName"),
                                                       t.column("OperationName"), t.column("StartTimeUnixNano"), t.column("EndTimeUnixNano"))
        _ = tid
        return try t.records.enumerated().map { n, r in
            guard let spanID = UInt64(spanIDHex: Substring(r[sid])), let s = UInt64(r[start]), let e = UInt64(r[end]) else {
                throw Malformed(description: "\(path):\(n + 2): bad span id or times")
            }
            let parent = r[pid] == "root" ? 0 : (UInt64(spanIDHex: Substring(r[pid])) ?? 0)
            return .span(ObservedSpan(service: service(ofPod: r[pod]), operation: r[op], pod: r[pod], spanID: spanID, parentSpanID: parent,
                                      startNanos: s, durationNanos: e >= s ? e - s : 0))
        }
    }

    static func logs(_ path: String) throws -> [ReplayRecord] {
        let t = try CSVTable(path: path)
        let (time, stamp, pod, sid, log) = try (t.column("TimeUnixNano"), t.column("Timestamp"), t.column("PodName"), t.column("SpanID"), t.column("Log"))
        return try t.records.enumerated().map { n, r in
            // A few rows carry an overflowed TimeUnixNano; their ISO timestamp is intact.
            guard let ns = UInt64(r[time]) ?? isoNanos(r[stamp]) else { throw Malformed(description: "\(path):\(n + 2): bad TimeUnixNano and Timestamp") }
            let text = message(ofDockerLine: r[log])
            // Logback's "LEVEL logger#line ..." layout: the level and the code location.
            let fields = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            let level = fields.first.map(String.init) ?? ""
            let location = fields.count > 1 && fields[1].contains("#") ? String(fields[1]) : ""
            return .log(RawLog(timeNanos: ns, service: service(ofPod: r[pod]), pod: r[pod], spanID: UInt64(spanIDHex: Substring(r[sid])) ?? 0,
                               text: text, codeLocation: location, isError: level == "ERROR" || level == "FATAL"))
        }
    }

    /// `2023-01-29T09:33:14.716Z` (any number of fraction digits, `Z` optional, UTC).
    static func isoNanos(_ s: String) -> UInt64? {
        var text = s.hasSuffix("Z") ? String(s.dropLast()) : s
        var fraction: UInt64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix(9)
            guard let f = UInt64(digits) else { return nil }
            fraction = f * UInt64(pow(10, Double(9 - digits.count)))
            text = String(text[..<dot])
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        guard let date = f.date(from: text + "Z"), date.timeIntervalSince1970 >= 0 else { return nil }
        return UInt64(date.timeIntervalSince1970) * 1_000_000_000 + fraction
    }

    /// The `log` field of the container runtime's JSON line, without the leading clock time.
    static func message(ofDockerLine line: String) -> String {
        var text = line
        if let data = line.data(using: .utf8), let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let l = obj["log"] as? String {
            text = l
        }
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let space = text.firstIndex(of: " "), text[..<space].contains(":") { text = String(text[text.index(after: space)...]) }
        return text
    }

    /// The pod's resource metrics. Its latency, workload and success columns are left out:
    /// the spans measure those per operation and per call, where the pod columns are one noisy
    /// number (client p90 jumps from 0.04 s to 1200 s in fault-free minutes).
    static let metricColumns = ["CpuUsageRate(%)", "MemoryUsageRate(%)", "NetworkReceiveBytes", "NetworkTransmitBytes"]

    static func metrics(_ path: String, from: Int64, to: Int64) throws -> [ReplayRecord] {
        let t = try CSVTable(path: path)
        let (ts, pod) = try (t.column("TimeStamp"), t.column("PodName"))
        let cols = metricColumns.compactMap { name in t.header.firstIndex(of: name).map { (name, $0) } }
        var out: [ReplayRecord] = []
        for r in t.records {
            guard let sec = Int64(r[ts]), sec >= from, sec < to else { continue }
            for (name, c) in cols {
                guard let v = Double(r[c]), v.isFinite else { continue }
                out.append(.metric(ObservedMetric(timeNanos: UInt64(sec) * 1_000_000_000, entity: Entity(.pod, r[pod]), name: name, value: v)))
            }
        }
        return out
    }
}

/// A CSV file with a header row, columns found by name. The datasets keep one record per
/// line (newlines inside log text are escaped), so a damaged row — the Nezha logs have a few
/// with text spliced in after the closing quote — is skipped alone and counted, not allowed to
/// swallow the rows after it.
struct CSVTable {
    var path: String
    var header: [String]
    var records: [[String]] = []
    /// Lines that did not parse into as many fields as the header has.
    var skippedLines: [Int] = []

    init(path: String) throws {
        let text = path.hasSuffix(".gz") ? try GzipFile.text(path) : try String(contentsOfFile: path, encoding: .utf8)
        // Split on bytes: as Characters, "\r\n" is one and would not split on "\n".
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first, let head = try CSVReader.rows(first).first else {
            throw NezhaDataset.Malformed(description: "\(path): empty")
        }
        self.path = path
        header = head.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        for (n, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            if let row = try? CSVReader.rows(line), row.count == 1, row[0].count == header.count {
                records.append(row[0])
            } else {
                skippedLines.append(n + 1)
            }
        }
        CSVTable.skipped.add(skippedLines.count)
    }

    func column(_ name: String) throws -> Int {
        guard let i = header.firstIndex(of: name) else { throw NezhaDataset.Malformed(description: "\(path): no column \(name)") }
        return i
    }

    func value(_ r: [String], _ name: String) throws -> String { r[try column(name)] }

    /// Damaged lines skipped since the process started (the benchmark reports them).
    static let skipped = SkippedCounter()
}

final class SkippedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
}
