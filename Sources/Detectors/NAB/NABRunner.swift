import Foundation

/// Runs a detector over NAB series: a fresh detector per series, fed every row in order
/// (NAB's rules: no look-ahead, one configuration for all series), its verdict's score
/// recorded per row.
public enum NABRunner {
    public static func scores<D: AnomalyDetector>(of series: NABSeries, with make: () -> D) -> [Double] {
        var detector = make()
        var out = [Double](repeating: 0, count: series.values.count)
        series.values.withUnsafeBufferPointer { values in
            series.times.withUnsafeBufferPointer { times in
                for i in 0..<values.count {
                    out[i] = detector.update(time: times[i] &* 1000, value: values[i]).score
                }
            }
        }
        return out
    }

    /// Writes one detector's results as NAB's `results/` folder holds them:
    /// `<out>/<detector>/<category>/<detector>_<file>.csv` with timestamp, value,
    /// anomaly_score and label (1 inside a labelled window).
    public static func writeResults(detector: String, series: [NABSeries], scores: [[Double]], to out: URL) throws {
        for (s, rowScores) in zip(series, scores) {
            let directory = out.appendingPathComponent(detector).appendingPathComponent(s.category)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var inWindow = [Bool](repeating: false, count: s.values.count)
            for w in s.windows { for i in w { inWindow[i] = true } }
            var text = "timestamp,value,anomaly_score,label\n"
            text.reserveCapacity(s.values.count * 48)
            for i in 0..<s.values.count {
                text += s.timestampTexts[i]
                text += ","
                text += formatValue(s.values[i])
                text += ","
                text += "\(rowScores[i])"
                text += inWindow[i] ? ",1\n" : ",0\n"
            }
            let file = directory.appendingPathComponent("\(detector)_\(s.baseName).csv")
            try Data(text.utf8).write(to: file, options: .atomic)
        }
    }

    /// Integers without a fraction, as the data files write them.
    static func formatValue(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }
}

extension NABRunner {
    /// Reads the anomaly scores a detector wrote in NAB's results layout
    /// (`<dir>/<category>/<detector>_<file>.csv`, with an `anomaly_score` column), one row per
    /// data row, so results of any NAB detector can be scored here.
    public static func readResults(detector: String, from directory: URL, for series: NABSeries) throws -> [Double] {
        let file = directory.appendingPathComponent(series.category).appendingPathComponent("\(detector)_\(series.baseName).csv")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw NABError("no results for \(series.name): cannot read \(file.path)")
        }
        var lines = text.utf8.split(separator: UInt8(ascii: "\n")).map { Substring($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard !lines.isEmpty else { throw NABError("\(file.path) is empty") }
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        guard let column = header.firstIndex(of: "anomaly_score") else {
            throw NABError("\(file.path): no anomaly_score column in its header \(header)")
        }
        lines.removeAll { $0.isEmpty }
        guard lines.count == series.values.count else {
            throw NABError("\(file.path) has \(lines.count) rows; \(series.name) has \(series.values.count)")
        }
        return try lines.enumerated().map { (i, line) in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard column < fields.count, let score = Double(fields[column]) else {
                throw NABError("\(file.path):\(i + 2): no anomaly score in '\(line)'")
            }
            return score
        }
    }
}
