import ArgumentParser
import Detectors
import Foundation

/// `vigil bench`: benchmarks anyone can run on their own data.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "The benchmark suite (vigil bench [NAME…]), or the detectors and rankers on your own data (nab, rca with --data).",
        subcommands: [BenchSuiteCommand.self, BenchNABCommand.self, BenchRCACommand.self],
        defaultSubcommand: BenchSuiteCommand.self
    )
}

/// `vigil bench nab`: the metric detectors on a folder laid out as NAB's `data/`, scored with
/// NAB's rules, results written as NAB's `results/` folder so NAB's own scorer can read them.
struct BenchNABCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nab",
        abstract: "Runs metric detectors over NAB-style series and scores them with NAB's three profiles.",
        discussion: """
            --data holds <category>/<series>.csv files of timestamp,value; --labels is NAB's \
            combined_windows JSON naming each file and its anomaly windows. Results go to \
            <out>/<detector>/<category>/<detector>_<series>.csv. Each profile's threshold is \
            the one that maximises its score, one for all series, as NAB does.
            """
    )

    @Option(help: "Folder of <category>/<series>.csv files (without it and --results: the suite's nab benchmark).") var data: String?
    @Option(help: "NAB windows file (combined_windows*.json).") var labels: String?
    @Option(help: "Where to write the results folders.") var out: String?
    @Option(help: "Score the results already in this folder (NAB's results/ layout: <detector>/<category>/<detector>_<series>.csv) instead of running detectors; --detector names which.")
    var results: String?
    @Option(help: "Score at this anomaly-score threshold instead of each profile's best.") var threshold: Double?
    @Option(name: .customLong("detector"), help: "A detector to run (repeatable; default: all). One of: \(MetricDetectorKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var detectors: [String] = []
    @Flag(help: "Print each series' share of the first profile's score.") var perSeries = false
    @Flag(help: "Tell the detectors that cut values into levels (novelty, shape, ensemble) each file's minimum and maximum before its first point, as NAB's framework tells every detector (inputMin, inputMax): look-ahead. Results are named <detector>-range-hint.")
    var rangeHint = false
    @Option(help: "NAB profiles.json (default: NAB v1.1's standard, reward_low_FP_rate, reward_low_FN_rate).") var profiles: String?

    func run() throws {
        guard let data, let labels else {
            guard data == nil, labels == nil, out == nil, results == nil else { throw ValidationError("give --data and --labels (or neither: the suite's nab benchmark)") }
            return try BenchSuiteCommand.run(["nab"], quick: false)
        }
        guard (out == nil) != (results == nil) else { throw ValidationError("give --out (run detectors) or --results (score existing results)") }
        if results != nil {
            guard !detectors.isEmpty else { throw ValidationError("--results needs --detector NAME for each results folder to score") }
        }
        let kinds = try detectors.isEmpty || results != nil ? MetricDetectorKind.allCases : detectors.map { name in
            guard let kind = MetricDetectorKind(rawValue: name) else {
                throw ValidationError("--detector \(name): unknown; choose from \(MetricDetectorKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
        let profileList: [NABProfile]
        do { profileList = try profiles.map { try NABProfile.load(from: URL(fileURLWithPath: $0)) } ?? NABProfile.all } catch {
            throw ValidationError("--profiles: \(error)")
        }
        let series: [NABSeries]
        do { series = try NABCorpus.load(data: URL(fileURLWithPath: data), labels: URL(fileURLWithPath: labels)) } catch {
            throw ValidationError("\(error)")
        }
        let points = series.reduce(0) { $0 + $1.values.count }
        print("\(series.count) series, \(points) points, \(series.reduce(0) { $0 + $1.windows.count }) windows")
        print("detector".padding(toLength: 22, withPad: " ", startingAt: 0) + profileList.map { $0.name.padding(toLength: 20, withPad: " ", startingAt: 0) }.joined() + "points/s")
        func report(_ name: String, _ scores: [[Double]], speed: String) {
            let results = NABScorer.score(series: series, anomalyScores: scores, profiles: profileList, threshold: threshold)
            let cells = results.map { String(format: "%.1f", $0.normalized).padding(toLength: 20, withPad: " ", startingAt: 0) }
            print(name.padding(toLength: 22, withPad: " ", startingAt: 0) + cells.joined() + speed)
            if perSeries, let first = results.first {
                print("  threshold \(first.threshold): \(first.detectedWindows) windows detected, \(first.missedWindows) missed, \(first.falsePositives) false positives")
                for (s, rowScores) in zip(series, scores) {
                    let r = NABScorer.breakdown(series: s, anomalyScores: rowScores, threshold: first.threshold, profile: first.profile)
                    print(String(format: "  %-60@ %8.3f  detected %d missed %d fp %d", r.name, r.raw, r.detectedWindows, r.missedWindows, r.falsePositives))
                }
            }
        }
        if let results {
            for name in detectors {
                let directory = URL(fileURLWithPath: results).appendingPathComponent(name)
                let scores: [[Double]]
                do { scores = try series.map { try NABRunner.readResults(detector: name, from: directory, for: $0) } } catch {
                    throw ValidationError("\(error)")
                }
                report(name, scores, speed: "-")
            }
            return
        }
        for kind in kinds {
            let clock = ContinuousClock()
            var scores: [[Double]] = []
            let elapsed = clock.measure { scores = series.map { kind.nabScores(of: $0, rangeHint: rangeHint) } }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let name = rangeHint && kind.usesValueRange ? kind.rawValue + "-range-hint" : kind.rawValue
            try NABRunner.writeResults(detector: name, series: series, scores: scores, to: URL(fileURLWithPath: out!))
            report(name, scores, speed: String(format: "%.2fM", Double(points) / seconds / 1e6))
        }
    }
}
