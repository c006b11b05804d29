import Detectors
import Foundation

/// The NAB benchmark (issue "Streaming anomaly detectors"): every metric detector over the
/// series in ../shared/data/nab (labels: combined_windows_dev.json), scored with NAB's rules
/// and three profiles, one configuration for all series; throughput in points per second on
/// one core (the median of timed passes over the whole corpus).
///
/// With NAB_RESULTS=DIR (NAB's own `results/` folder) it also scores the published results of
/// ARTime, CAD OSE and Numenta HTM on the same series in the same run, and prints the ratio.
func nabBenchmark(quick: Bool) throws -> Figures {
    let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("../shared/data/nab").standardized
    let series: [NABSeries]
    do {
        series = try NABCorpus.load(data: root.appendingPathComponent("data"),
                                    labels: root.appendingPathComponent("labels/combined_windows_dev.json"))
    } catch {
        throw BenchError("the NAB data is expected at \(root.path): \(error)")
    }
    let points = series.reduce(0) { $0 + $1.values.count }
    let repeats = quick ? 1 : 5
    print("NAB: \(series.count) series, \(points) points, \(series.reduce(0) { $0 + $1.windows.count }) windows; \(repeats) timed pass(es) per detector")

    var figures = Figures()
    var rows: [(String, String)] = []
    var best: (name: String, scores: [NABScore])?
    var bestStreaming: (name: String, scores: [NABScore])?
    let kinds = quick ? [.ewma, .ensemble] : MetricDetectorKind.allCases
    // Each detector as a stream sees it (nothing before the first point), then those that cut
    // values into levels once more with the file's range told in advance, as NAB's framework
    // tells every detector and the published entries use it.
    let runs = kinds.map { ($0, false) } + kinds.filter(\.usesValueRange).map { ($0, true) }
    for (kind, rangeHint) in runs {
        var scores: [[Double]] = []
        let seconds = median((0..<repeats).map { _ in time { scores = series.map { kind.nabScores(of: $0, rangeHint: rangeHint) } } })
        let result = NABScorer.score(series: series, anomalyScores: scores)
        let label = kind.rawValue + (rangeHint ? "-range-hint" : "")
        let name = label.replacingOccurrences(of: "-", with: "_")
        figures.set("\(name)_standard", result[0].normalized)
        figures.set("\(name)_reward_low_fp", result[1].normalized)
        figures.set("\(name)_reward_low_fn", result[2].normalized)
        figures.set("\(name)_points_per_s", Double(points) / seconds)
        rows.append((label, String(format: "standard %5.1f   low FP %5.1f   low FN %5.1f   %@   (%d detected, %d missed, %d FP at %.4f)",
                                           result[0].normalized, result[1].normalized, result[2].normalized, formatRate(Double(points) / seconds),
                                           result[0].detectedWindows, result[0].missedWindows, result[0].falsePositives, result[0].threshold)))
        if best == nil || result[0].normalized > best!.scores[0].normalized { best = (label, result) }
        if !rangeHint, bestStreaming == nil || result[0].normalized > bestStreaming!.scores[0].normalized { bestStreaming = (label, result) }
    }
    printTable("NAB scores (normalised: null detector 0, perfect 100), points per second on one core", rows)
    func record(_ run: (name: String, scores: [NABScore])?, prefix: String, title: String) {
        guard let run else { return }
        figures.set(prefix + "best_detector", run.name)
        figures.set(prefix + "standard", run.scores[0].normalized)
        figures.set(prefix + "reward_low_fp", run.scores[1].normalized)
        figures.set(prefix + "reward_low_fn", run.scores[2].normalized)
        print(String(format: "%@: %@ — standard %.1f, reward_low_FP %.1f, reward_low_FN %.1f",
                     title, run.name, run.scores[0].normalized, run.scores[1].normalized, run.scores[2].normalized))
    }
    print()
    record(best, prefix: "", title: "best (goal: standard ≥ 70)")
    record(bestStreaming, prefix: "streaming_", title: "best without the file's range in advance")

    if let results = ProcessInfo.processInfo.environment["NAB_RESULTS"] {
        var references: [(String, String)] = []
        for name in ["ARTime", "contextOSE", "numenta"] {
            let directory = URL(fileURLWithPath: results).appendingPathComponent(name)
            guard let scores = try? series.map({ try NABRunner.readResults(detector: name, from: directory, for: $0) }) else {
                references.append((name, "no results in \(directory.path)"))
                continue
            }
            let result = NABScorer.score(series: series, anomalyScores: scores)
            let key = name.lowercased()
            figures.set("\(key)_reference_standard", result[0].normalized)
            let ratio = (best?.scores[0].normalized ?? 0) / result[0].normalized
            figures.set("best_over_\(key)", ratio)
            references.append((name, String(format: "standard %5.1f   low FP %5.1f   low FN %5.1f   Vigil's best / this = %.2f",
                                             result[0].normalized, result[1].normalized, result[2].normalized, ratio)))
        }
        printTable("Published NAB results on the same series, scored in this run (NAB_RESULTS=\(results))", references)
    }
    return figures
}
