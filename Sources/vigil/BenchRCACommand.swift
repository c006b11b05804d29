import AIOps
import ArgumentParser
import Foundation
import RCA

/// `vigil bench rca`: replays labelled fault cases through the knowledge graph and scores every
/// ranker on where it put the true root cause.
struct BenchRCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rca",
        abstract: "Scores the root-cause rankers on a folder of labelled fault cases.",
        discussion: """
            --data is a folder laid out as ../shared/data/rca/nezha-tt (cases.csv, construct_data/, \
            rca_data/) or as ../shared/data/rca/petshop (cases.csv, <scenario>/graph.csv and metrics). \
            Each case's rows are written as OTLP export requests and decoded by Vigil's OTLP \
            decoders (--direct skips that). Prints AC@1, AC@3, AC@5 and Avg@5 per fault type for each ranker; --json writes the \
            figures of the first ranker (Vigil's) with the rank of every case.
            """
    )

    @Option(help: "Folder of labelled cases (without it: the suite's rca benchmark).") var data: String?
    @Option(help: "Write the first ranker's figures and per-case ranks here as JSON.") var json: String?
    @Option(name: .customLong("ranker"), help: "Rankers to run (repeatable; default all): \(RankerChoice.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rankers: [RankerChoice] = []
    @Flag(help: "Print each case's top five and the first candidate's evidence.") var verbose = false
    @Flag(help: "Feed the graph the dataset's rows directly instead of replaying them as OTLP through Vigil's decoders.") var direct = false
    @Option(help: "Print every indicator of the cases whose id contains this, strongest first.") var explain: String?
    @Option(help: "Write each case's incident-window graph to this folder as <case>.json and <case>.dot.") var exportGraphs: String?

    func run() throws {
        guard let data else { return try BenchSuiteCommand.run(["rca"], quick: false) }
        let dir = URL(fileURLWithPath: data)
        let cases: [RCACase]
        do {
            if NezhaDataset.isLayout(dir) {
                cases = try NezhaDataset.load(dir)
            } else if PetShopDataset.isLayout(dir) {
                cases = try PetShopDataset.load(dir)
            } else {
                throw ValidationError("--data \(data): neither the Nezha layout (cases.csv, rca_data/) nor the PetShop layout (cases.csv, <scenario>/graph.csv)")
            }
        } catch let e as ValidationError { throw e } catch { throw ValidationError("--data \(data): \(error)") }
        let chosen = rankers.isEmpty ? RankerChoice.allCases : rankers
        var evaluations = chosen.map { RCAEvaluation(ranker: $0.rawValue) }
        let replay = RCAReplay()
        for original in cases {
            let c = direct ? original : try OTLPReplay.throughOTLP(original)
            let input = try replay.run(c)
            if let exportGraphs {
                let base = URL(fileURLWithPath: exportGraphs).appendingPathComponent(c.id.replacingOccurrences(of: "/", with: "_"))
                try FileManager.default.createDirectory(atPath: exportGraphs, withIntermediateDirectories: true)
                try input.current.json().write(to: base.appendingPathExtension("json"), atomically: true, encoding: .utf8)
                try input.current.dot().write(to: base.appendingPathExtension("dot"), atomically: true, encoding: .utf8)
            }
            if let explain, c.id.contains(explain) {
                print("\(c.id): \(input.indicators.count) indicators; root cause \(c.rootCause); incident window: \(input.current.operations.count) operations, \(input.current.calls.count) call edges, \(input.current.metrics.count) metrics; baseline: \(input.baseline.operations.count), \(input.baseline.calls.count), \(input.baseline.metrics.count)")
                for i in input.indicators.sorted(by: { $0.weight > $1.weight }).prefix(40) {
                    let code = i.codeLocations.filter { !$0.isEmpty }
                    print("  w=\(String(format: "%.2f", i.weight)) effect=\(String(format: "%.2f", i.effect)) \(i)" + (code.isEmpty ? "" : " code: \(code.joined(separator: ", "))"))
                }
            }
            for (i, choice) in chosen.enumerated() { evaluations[i].add(c, input: input, ranker: choice.ranker) }
            if verbose {
                for e in evaluations {
                    let r = e.results.last!
                    print("\(r.caseID) [\(r.group)] \(r.rootCause) → \(e.ranker) rank \(r.rank.map(String.init) ?? "-"): \(r.top.joined(separator: ", "))")
                    print("    first: \(r.explanation)")
                    if r.rank != 1 { for line in r.rootCauseEvidence { print("    cause: \(line)") } }
                }
            }
        }
        print("\(cases.count) cases from \(data); \(NezhaDataset.skippedLines) damaged CSV lines skipped")
        for e in evaluations { print(e.table()) }
        if let json, let first = evaluations.first { try write(first, to: json) }
    }

    func write(_ e: RCAEvaluation, to path: String) throws {
        let times = e.results.map(\.rankMillis).sorted()
        let body: [String: Any] = [
            "ranker": e.ranker,
            "cases": e.results.count,
            "ac1": e.accuracy(at: 1), "ac3": e.accuracy(at: 3), "ac5": e.accuracy(at: 5), "avg5": e.average5(),
            "rank_ms_median": times.isEmpty ? 0 : times[times.count / 2],
            "fine_ac1": e.fineAccuracy() as Any,
            "ranks": e.results.map { ["case": $0.caseID, "group": $0.group, "root_cause": $0.rootCause, "rank": $0.rank as Any, "top": $0.top,
                                  "fine_correct": $0.fineCorrect as Any] as [String: Any] },
        ]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }
}

enum RankerChoice: String, CaseIterable, ExpressibleByArgument {
    case evidence, pagerank, latencyRatio = "latency-ratio"

    var ranker: any RootCauseRanker {
        switch self {
        case .evidence: EvidenceRanker()
        case .pagerank: PageRankRanker()
        case .latencyRatio: LatencyRatioRanker()
        }
    }
}
