import Foundation

/// One NAB data file: its rows and its labelled anomaly windows.
public struct NABSeries: Sendable {
    /// As NAB names it: `category/file.csv`.
    public var name: String
    /// The timestamps as written in the file (results files repeat them verbatim).
    public var timestampTexts: [String]
    /// Seconds since 1970 (the files' times are read as UTC).
    public var times: [Int64]
    public var values: [Double]
    /// Row indices of each labelled window, first to last row inclusive, in time order.
    public var windows: [ClosedRange<Int>]

    /// The file's smallest and largest value: what NAB's framework gives every detector before
    /// the first point (`inputMin`, `inputMax`); nil for an empty file.
    public var valueRange: ClosedRange<Double>? {
        guard let low = values.min(), let high = values.max() else { return nil }
        return low...high
    }

    public init(name: String, timestampTexts: [String], times: [Int64], values: [Double], windows: [ClosedRange<Int>]) {
        self.name = name
        self.timestampTexts = timestampTexts
        self.times = times
        self.values = values
        self.windows = windows
    }

    public var category: String { String(name.split(separator: "/").first ?? "") }
    /// The file name without directory and `.csv`.
    public var baseName: String {
        let file = name.split(separator: "/").last.map(String.init) ?? name
        return file.hasSuffix(".csv") ? String(file.dropLast(4)) : file
    }
}

/// A NAB data folder (`<category>/<name>.csv` files of `timestamp,value`) with the windows of a
/// labels file (`{"category/name.csv": [[start, end], …]}`). As NAB's scorer does, every file
/// the labels name must exist and every window bound must be a timestamp of its file.
public enum NABCorpus {
    public static func load(data: URL, labels: URL) throws -> [NABSeries] {
        let labelData: Data
        do { labelData = try Data(contentsOf: labels) } catch {
            throw NABError("cannot read the labels file \(labels.path): \(error.localizedDescription)")
        }
        let windowsByFile: [String: [[String]]]
        do { windowsByFile = try JSONDecoder().decode([String: [[String]]].self, from: labelData) } catch {
            throw NABError("\(labels.path): expected {\"category/file.csv\": [[start, end], ...]}: \(error)")
        }
        return try windowsByFile.keys.sorted().map { name in
            try loadSeries(name: name, file: data.appendingPathComponent(name), windows: windowsByFile[name]!)
        }
    }

    static func loadSeries(name: String, file: URL, windows: [[String]]) throws -> NABSeries {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw NABError("the labels name \(name), but \(file.path) cannot be read: \(error.localizedDescription)")
        }
        var texts: [String] = []
        var times: [Int64] = []
        var values: [Double] = []
        // By bytes: some NAB files end lines with \r\n, which Swift reads as one Character.
        for (i, bytes) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = Substring(bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes)
            if i == 0 || line.isEmpty { continue }  // the header
            let fields = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2, let time = parseTimestamp(fields[0]), let value = Double(fields[1]) else {
                throw NABError("\(file.path):\(i + 1): expected 'YYYY-MM-DD HH:MM:SS,number', got '\(line)'")
            }
            texts.append(String(fields[0]))
            times.append(time)
            values.append(value)
        }
        var rowOf: [Int64: Int] = [:]
        for (row, t) in times.enumerated() where rowOf[t] == nil { rowOf[t] = row }
        let ranges = try windows.map { bounds -> ClosedRange<Int> in
            guard bounds.count == 2, let start = parseTimestamp(bounds[0][...]), let end = parseTimestamp(bounds[1][...]) else {
                throw NABError("labels: window \(bounds) of \(name) is not [start, end] timestamps")
            }
            guard let first = rowOf[start], let last = rowOf[end], first <= last else {
                throw NABError("labels: window \(bounds) of \(name) does not start and end at rows of \(file.path)")
            }
            return first...last
        }.sorted { $0.lowerBound < $1.lowerBound }
        return NABSeries(name: name, timestampTexts: texts, times: times, values: values, windows: ranges)
    }

    /// `YYYY-MM-DD HH:MM:SS` with optional fractional seconds (ignored), as UTC seconds.
    static func parseTimestamp(_ s: Substring) -> Int64? {
        let b = Array(s.utf8)
        guard b.count >= 19, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x20 || b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var n: Int64 = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                n = n * 10 + Int64(b[i] - 0x30)
            }
            return n
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
