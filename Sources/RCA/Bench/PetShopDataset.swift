import Foundation
import Detectors

/// The PetShop cases (`cases.csv`; per scenario a `graph.csv` call graph and `noissue/metrics.csv`
/// normal period; per issue `metrics.csv` and `target.json`). Components become services of the
/// graph, the adjacency matrix its call edges, and each column of metrics a gauge of its
/// component, one reading per 5-minute bucket.
public enum PetShopDataset {
    public static func isLayout(_ dir: URL) -> Bool {
        let fm = FileManager.default
        guard fm.fileExists(atPath: dir.appendingPathComponent("cases.csv").path) else { return false }
        return (try? fm.contentsOfDirectory(atPath: dir.path))?.contains { fm.fileExists(atPath: dir.appendingPathComponent("\($0)/graph.csv").path) } ?? false
    }

    /// Buckets are five minutes.
    public static let bucketSeconds: Int64 = 300

    public static func load(_ dir: URL) throws -> [RCACase] {
        let table = try CSVTable(path: dir.appendingPathComponent("cases.csv").path)
        var graphs: [String: [ReplayRecord]] = [:]
        var normals: [String: [ReplayRecord]] = [:]
        return try table.records.map { r in
            let id = try table.value(r, "case_id"), scenario = try table.value(r, "scenario")
            guard let target = Int64(try table.value(r, "target_timestamp")) else { throw NezhaDataset.Malformed(description: "\(id): target_timestamp is not a number") }
            let scenarioDir = dir.appendingPathComponent(scenario)
            if graphs[scenario] == nil { graphs[scenario] = try callGraph(scenarioDir.appendingPathComponent("graph.csv").path) }
            if normals[scenario] == nil {
                let normal = scenarioDir.appendingPathComponent("noissue/metrics.csv").path
                normals[scenario] = FileManager.default.fileExists(atPath: normal) ? try metrics(normal) : []
            }
            let issue = try metrics(dir.appendingPathComponent(id).appendingPathComponent("metrics.csv").path)
            // The normal period was recorded months after the issues; replay it as the history
            // a live deployment would have had: shifted to end one bucket before the issue's
            // first bucket.
            var records = issue
            let normal = normals[scenario]!
            if let normalEnd = normal.map(\.timeNanos).max(), let issueStart = issue.map(\.timeNanos).min() {
                let end = issueStart - UInt64(bucketSeconds) * 1_000_000_000
                records += normal.map { $0.at($0.timeNanos + end - normalEnd) }
            }
            // The call graph is static: give it to the incident window and the baseline alike.
            // The incident window is the first bucket that starts after the target time: the
            // one holding it began before the issue, and one starting at that very second has
            // not seen the issue take effect. (In every development issue it is the file's
            // third bucket, the one the dataset's authors analyse.)
            let start = issue.lazy.map { Int64($0.timeNanos / 1_000_000_000) }.filter { $0 > target }.min() ?? target + 1
            let firstNanos = records.map(\.timeNanos).min() ?? UInt64(start) * 1_000_000_000
            let edges = graphs[scenario]!
            records += edges.map { $0.at(firstNanos) } + edges.map { $0.at(UInt64(start) * 1_000_000_000) }
            records.sort { $0.timeNanos < $1.timeNanos }
            let traffic = scenario.hasPrefix("temporal") ? "temporal" : scenario.replacingOccurrences(of: "_traffic", with: "")
            var c = RCACase(id: id, group: "\(traffic) \(try table.value(r, "target_metric"))", rootCause: try table.value(r, "root_cause_node"),
                            incidentStart: start * 1000, incidentEnd: (start + bucketSeconds) * 1000, records: records)
            // The bucket the fault began in is half normal, half not: the baseline ends before it.
            let onset = issue.lazy.map { Int64($0.timeNanos / 1_000_000_000) }.filter { $0 <= target }.max() ?? start
            c.baselineEnd = onset * 1000
            c.symptom = .service(try table.value(r, "target_node"))
            c.symptomSignal = SignalFamily.of(metric: try table.value(r, "target_metric"))
            return c
        }
    }

    /// One span pair per edge of the adjacency matrix (caller row, callee column), so the graph
    /// learns the edge the way it learns it from traces.
    static func callGraph(_ path: String) throws -> [ReplayRecord] {
        let t = try CSVTable(path: path)
        var out: [ReplayRecord] = []
        var nextID: UInt64 = 1
        for r in t.records {
            for (j, cell) in r.enumerated().dropFirst() where (Double(cell) ?? 0) != 0 {
                let parent = nextID, child = nextID + 1
                nextID += 2
                out.append(.span(ObservedSpan(service: r[0], operation: "call", spanID: parent, parentSpanID: 0, kind: .client, startNanos: 0, durationNanos: 0)))
                out.append(.span(ObservedSpan(service: t.header[j], operation: "call", spanID: child, parentSpanID: parent, kind: .server, startNanos: 0, durationNanos: 0)))
            }
        }
        return out
    }

    /// Three header rows (component, metric, statistic), a `unix_timestamp` row, then one row
    /// per bucket; an empty cell is no data.
    static func metrics(_ path: String) throws -> [ReplayRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let rows = try CSVReader.rows(text)
        guard rows.count >= 4, rows[1].count == rows[0].count, rows[2].count == rows[0].count else {
            throw NezhaDataset.Malformed(description: "\(path): expected component, metric and statistic header rows")
        }
        var out: [ReplayRecord] = []
        for (n, r) in rows.enumerated().dropFirst(3) where r.first.flatMap(Double.init) != nil {
            guard r.count == rows[0].count, let t = Double(r[0]) else { throw NezhaDataset.Malformed(description: "\(path):\(n + 1): \(r.count) fields") }
            for j in 1..<r.count {
                guard let v = Double(r[j]), v.isFinite else { continue }
                out.append(.metric(ObservedMetric(timeNanos: UInt64(t) * 1_000_000_000, entity: .service(rows[0][j]), name: "\(rows[1][j]) \(rows[2][j])", value: v)))
            }
        }
        return out
    }
}

extension ReplayRecord {
    /// The same record at another time (for the static call graph).
    func at(_ nanos: UInt64) -> ReplayRecord {
        switch self {
        case .span(var s): s.startNanos = nanos; return .span(s)
        case .log(var l): l.timeNanos = nanos; return .log(l)
        case .metric(var m): m.timeNanos = nanos; return .metric(m)
        }
    }
}
