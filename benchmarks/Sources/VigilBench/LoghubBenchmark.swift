import Detectors
import Foundation

/// The Loghub benchmark (issue "Streaming log template mining"): every dataset in
/// ../shared/data/loghub-2k parsed by Vigil's template miner and by Drain3 with the dataset's
/// settings.json (log_format, masking regexes, similarity threshold), scored against the
/// corrected ground truth (GA, PA, FGA), and both miners' throughput in lines per second with
/// masking included, measured in the same run.
///
/// Vigil uses settings.json's `st` and `regex` per dataset but its own depth (3: token count
/// and first word) for all: its constant-variant rule does what deeper trees do for Drain.
func loghubBenchmark(quick: Bool) throws -> Figures {
    let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("../shared/data/loghub-2k").standardized
    guard let settingsData = FileManager.default.contents(atPath: root.appendingPathComponent("settings.json").path),
          let allSettings = try JSONSerialization.jsonObject(with: settingsData) as? [String: [String: Any]] else {
        throw BenchError("../shared/data/loghub-2k/settings.json is missing: the Loghub datasets are expected next to the repository")
    }
    let names = allSettings.keys.sorted().filter {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/\($0)_2k.log_structured_corrected.csv").path)
    }
    let repeats = quick ? 3 : 9
    let workDir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-loghub-\(getpid())")
    try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: workDir) }

    var datasets: [LoghubDataset] = []
    for name in names {
        let dataset = try LoghubDataset(root: root, name: name, settings: allSettings[name]!)
        datasets.append(dataset)
        try dataset.writeForDrain3(to: workDir)
    }

    // A profiling aid: VIGIL_LOGHUB_PROFILE=N times Vigil alone, N passes over every dataset.
    if let passes = ProcessInfo.processInfo.environment["VIGIL_LOGHUB_PROFILE"].flatMap(Int.init), passes > 0 {
        // Per pass over all datasets; the fastest pass is the steadiest figure on a shared machine.
        let lines = datasets.reduce(0) { $0 + $1.contents.count }
        var rates: [Double] = []
        for _ in 0..<passes {
            var seconds = 0.0
            for d in datasets { seconds += try d.timeVigil(includingHeader: false) }
            rates.append(Double(lines) / seconds)
        }
        rates.sort()
        print(String(format: "Vigil alone: median %.0f, best %.0f lines/s over %d passes", rates[rates.count / 2], rates.last!, passes))
        return Figures()
    }
    // Vigil: accuracy from one pass; throughput as the median of `repeats` timed passes.
    var vigilRows: [(String, ParsingScores, Double)] = []
    var vigilSeconds = 0.0, endToEndSeconds = 0.0, totalLines = 0
    for d in datasets {
        let scores = try d.score(templates: try d.vigilTemplates())
        let seconds = median(try (0..<repeats).map { _ in try d.timeVigil(includingHeader: false) })
        let withHeader = median(try (0..<repeats).map { _ in try d.timeVigil(includingHeader: true) })
        vigilRows.append((d.name, scores, Double(d.contents.count) / seconds))
        vigilSeconds += seconds
        endToEndSeconds += withHeader
        totalLines += d.contents.count
    }

    // Drain3 in its own venv, on the same contents.
    let drain3Output = workDir.appendingPathComponent("drain3.json")
    try runDrain3(input: workDir, output: drain3Output, repeats: quick ? 1 : 3)
    let drain3 = try JSONSerialization.jsonObject(with: Data(contentsOf: drain3Output)) as! [String: [String: Any]]
    var drain3Rows: [(String, ParsingScores, Double)] = []
    var drain3Seconds = 0.0
    for d in datasets {
        guard let result = drain3[d.name], let templates = result["templates"] as? [String],
              let clusters = result["clusters"] as? [Int], let seconds = result["seconds"] as? Double else {
            throw BenchError("Drain3 gave no result for \(d.name)")
        }
        // Drain3's groups are its clusters (two clusters may end with the same template text).
        drain3Rows.append((d.name, try d.score(templates: templates, groups: clusters.map(String.init)), Double(d.contents.count) / seconds))
        drain3Seconds += seconds
    }

    func printTable(_ title: String, _ rows: [(String, ParsingScores, Double)]) -> (ga: Double, pa: Double, fga: Double) {
        print("\n\(title)")
        print("dataset        GA     PA     FGA    lines/s")
        for (name, s, rate) in rows {
            print(name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: " %6.3f %6.3f %6.3f %10.0f", s.groupingAccuracy, s.parsingAccuracy, s.f1GroupingAccuracy, rate))
        }
        let n = Double(rows.count)
        let avg = (rows.map(\.1.groupingAccuracy).reduce(0, +) / n, rows.map(\.1.parsingAccuracy).reduce(0, +) / n, rows.map(\.1.f1GroupingAccuracy).reduce(0, +) / n)
        print("average     " + String(format: " %6.3f %6.3f %6.3f", avg.0, avg.1, avg.2))
        return avg
    }
    let v = printTable("Vigil (corrected ground truth; masking included; median of \(repeats) passes)", vigilRows)
    let d = printTable("Drain3 0.9.11, same settings and contents", drain3Rows)
    let vigilRate = Double(totalLines) / vigilSeconds
    let drain3Rate = Double(totalLines) / drain3Seconds
    print(String(format: "\nthroughput over all datasets: Vigil %.0f lines/s, Drain3 %.0f lines/s, ratio Vigil/Drain3 %.1f×", vigilRate, drain3Rate, vigilRate / drain3Rate))
    print(String(format: "Vigil including header parsing with the log_format regex: %.0f lines/s", Double(totalLines) / endToEndSeconds))

    var figures = Figures()
    figures["ga_avg"] = v.ga
    figures["pa_avg"] = v.pa
    figures["fga_avg"] = v.fga
    figures["lines_per_s"] = vigilRate
    figures["lines_per_s_with_header"] = Double(totalLines) / endToEndSeconds
    figures["drain3_ga_avg"] = d.ga
    figures["drain3_pa_avg"] = d.pa
    figures["drain3_fga_avg"] = d.fga
    figures["drain3_lines_per_s"] = drain3Rate
    figures["speedup_vs_drain3"] = vigilRate / drain3Rate
    figures.set("datasets", names.joined(separator: ","))
    for (name, s, _) in vigilRows {
        figures["\(name.lowercased())_ga"] = s.groupingAccuracy
        figures["\(name.lowercased())_pa"] = s.parsingAccuracy
        figures["\(name.lowercased())_fga"] = s.f1GroupingAccuracy
    }
    return figures
}

/// Drain3 from PyPI in a venv under .build (created on first use).
private func runDrain3(input: URL, output: URL, repeats: Int) throws {
    let venv = ".build/drain3-venv"
    if !FileManager.default.fileExists(atPath: "\(venv)/bin/python") || shell("\(venv)/bin/python -c 'import drain3'") != 0 {
        print("installing Drain3 into \(venv) ...")
        guard shell("python3 -m venv \(venv) && \(venv)/bin/pip install -q drain3==0.9.11") == 0 else {
            throw BenchError("could not install drain3==0.9.11 into \(venv) (python3-venv and PyPI are needed)")
        }
    }
    guard shell("DRAIN3_REPEATS=\(repeats) \(venv)/bin/python benchmarks/loghub/drain3_parse.py '\(input.path)' '\(output.path)'") == 0 else {
        throw BenchError("benchmarks/loghub/drain3_parse.py failed")
    }
}

private func shell(_ command: String) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    do { try p.run() } catch { return -1 }
    p.waitUntilExit()
    return p.terminationStatus
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One Loghub dataset: raw lines, their contents under the log format, the ground truth.
struct LoghubDataset {
    let name: String
    let format: String
    let config: TemplateMinerConfig
    let lines: [[UInt8]]
    /// The Content field of each line ("" when the line does not match the format).
    let contents: [[UInt8]]
    let settingsJSON: Data
    let truthGroups: [String]
    let truthTemplates: [String]

    init(root: URL, name: String, settings: [String: Any]) throws {
        self.name = name
        format = settings["log_format"] as! String
        let masks = settings["regex"] as? [String] ?? []
        config = TemplateMinerConfig(similarity: settings["st"] as? Double ?? 0.5, depth: 3, masks: masks)
        settingsJSON = try JSONSerialization.data(withJSONObject: settings)
        let raw = try Data(contentsOf: root.appendingPathComponent("\(name)/\(name)_2k.log"))
        var lines = raw.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        lines = lines.map { $0.last == UInt8(ascii: "\r") ? Array($0.dropLast()) : $0 }
        self.lines = lines
        let logFormat = try LogFormat(format)
        contents = lines.map { line in
            line.withUnsafeBufferPointer { p in logFormat.content(of: p).map { Array(p[$0]) } ?? [] }
        }
        let truth = try CSVReader.records(String(decoding: try Data(contentsOf: root.appendingPathComponent("\(name)/\(name)_2k.log_structured_corrected.csv")), as: UTF8.self))
        guard truth.count == lines.count else {
            throw BenchError("\(name): \(lines.count) log lines but \(truth.count) ground-truth rows")
        }
        truthGroups = truth.map { $0["EventId"] ?? "" }
        truthTemplates = truth.map { $0["EventTemplate"] ?? "" }
    }

    func writeForDrain3(to dir: URL) throws {
        var text: [UInt8] = []
        for c in contents { text += c; text.append(UInt8(ascii: "\n")) }
        try Data(text).write(to: dir.appendingPathComponent("\(name).contents"))
        try settingsJSON.write(to: dir.appendingPathComponent("\(name).settings.json"))
    }

    /// Each line's final event template (as Loghub's tools report it: after all lines).
    func vigilTemplates() throws -> [String] {
        let parse = TemplateAssignments(miner: try TemplateMiner(config: config))
        for c in contents { c.withUnsafeBufferPointer { _ = parse.add($0) } }
        return parse.resolve()
    }

    /// Seconds to mine every content (masking included), optionally also matching the header.
    func timeVigil(includingHeader: Bool) throws -> Double {
        let miner = try TemplateMiner(config: config)
        if includingHeader {
            let logFormat = try LogFormat(format)
            return time {
                for line in lines {
                    line.withUnsafeBufferPointer { p in
                        if let r = logFormat.content(of: p) { miner.add(UnsafeBufferPointer(rebasing: p[r])) }
                    }
                }
            }
        }
        return time {
            for c in contents { c.withUnsafeBufferPointer { _ = miner.add($0) } }
        }
    }

    /// Scores each line's template; its group is `groups` when given, else its template text
    /// (Vigil's event is its final template, as the ground truth has one template per event).
    func score(templates: [String], groups: [String]? = nil) throws -> ParsingScores {
        guard templates.count == truthGroups.count, groups.map({ $0.count == templates.count }) ?? true else {
            throw BenchError("\(name): \(templates.count) parsed lines, \(truthGroups.count) expected")
        }
        return ParsingAccuracy.score(trueGroups: truthGroups, trueTemplates: truthTemplates,
                                     predictedGroups: groups ?? templates, predictedTemplates: templates)
    }
}
