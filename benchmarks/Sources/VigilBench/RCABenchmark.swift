import AIOps
import Foundation
import RCA

/// The RCA benchmark (issue "Knowledge-graph root-cause analysis"): every labelled case of
/// ../shared/data/rca/nezha-tt and ../shared/data/rca/petshop replayed as OTLP through Vigil's
/// decoders, the template miner and the knowledge graph, ranked by each ranker with one configuration for all cases,
/// scored as the datasets' papers score them, next to their published figures.
func rcaBenchmark(quick: Bool) throws -> Figures {
    let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("../shared/data/rca").standardized
    let rankers: [any RootCauseRanker] = [EvidenceRanker(), PageRankRanker(), LatencyRatioRanker()]
    var figures = Figures()
    var rankMillis: [Double] = []
    let replay = RCAReplay()

    func evaluate(_ cases: [RCACase]) throws -> (evaluations: [RCAEvaluation], replayMillis: [Double]) {
        var evaluations = rankers.map { RCAEvaluation(ranker: $0.name) }
        var replayMillis: [Double] = []
        for c in cases {
            var input: RankingInput?
            // As in production: OTLP protobuf through Vigil's decoders into the graph.
            replayMillis.append(1000 * (try time { input = try replay.run(try OTLPReplay.throughOTLP(c)) }))
            for (i, r) in rankers.enumerated() { evaluations[i].add(c, input: input!, ranker: r) }
        }
        return (evaluations, replayMillis)
    }

    // Nezha TrainTicket: traces, logs and metrics.
    let nezha = try NezhaDataset.load(root.appendingPathComponent("nezha-tt"))
    let (nezhaEvaluations, nezhaReplay) = try evaluate(quick ? Array(nezha.prefix(5)) : nezha)
    print("Nezha TrainTicket: \(nezhaEvaluations[0].results.count) cases; \(NezhaDataset.skippedLines) damaged CSV lines skipped; replay median \(String(format: "%.0f", median(nezhaReplay))) ms per case")
    for e in nezhaEvaluations { print(e.table()) }
    print("""
        published on all 45 cases (Yu et al., ESEC/FSE 2023, service level):
          Nezha          AC@1 0.867  AC@3 0.978  AC@5 0.978
          MicroRCA       AC@1 0.200  AC@3 0.311  AC@5 0.444
          MicroRank      AC@1 0.156  AC@3 0.244  AC@5 0.356
        """)
    let ours = nezhaEvaluations[0]
    figures.set("nezha_cases", ours.results.count)
    figures.set("nezha_ac1", ours.accuracy(at: 1))
    figures.set("nezha_ac3", ours.accuracy(at: 3))
    figures.set("nezha_ac5", ours.accuracy(at: 5))
    figures.set("nezha_avg5", ours.average5())
    if let fine = ours.fineAccuracy() { figures.set("nezha_fine_ac1", fine) }
    for e in nezhaEvaluations.dropFirst() {
        let key = e.ranker.replacingOccurrences(of: "-", with: "_")
        figures.set("nezha_\(key)_ac1", e.accuracy(at: 1))
        figures.set("nezha_\(key)_avg5", e.average5())
    }
    rankMillis += nezhaEvaluations[0].results.map(\.rankMillis)

    // Graph ingest alone: every Nezha case's spans, (pre-mined) log events and gauges into a
    // knowledge graph and assembled, on one core; the reference is a loop that only counts
    // the records by kind, so the ratio is the graph's cost over touching the data.
    var mined: [[RCAInput]] = []
    for c in nezha {
        var events: [UInt64: UInt64] = [:]
        mined.append(c.records.map { r in
            switch r {
            case .span(let s): return .span(s)
            case .metric(let m): return .metric(m)
            case .log(let l):
                let id = LogEvent.id(template: UInt64(truncatingIfNeeded: l.text.utf8.count), codeLocation: l.codeLocation)
                events[id, default: 0] += 1
                return .log(ObservedLog(timeNanos: l.timeNanos, service: l.service, pod: l.pod, spanID: l.spanID, templateID: id, isError: l.isError))
            }
        })
    }
    let records = mined.reduce(0) { $0 + $1.count }
    var windows = 0
    let graphSeconds = median((0..<(quick ? 1 : 5)).map { _ in
        time {
            for inputs in mined {
                var graph = KnowledgeGraph(config: replay.graphConfig)
                for r in inputs {
                    switch r {
                    case .span(let s): graph.add(s)
                    case .log(let l): graph.add(l)
                    case .metric(let m): graph.add(m)
                    case .anomaly: break
                    }
                }
                windows += graph.flush().count
            }
        }
    })
    var counts = [0, 0, 0]
    let loopSeconds = median((0..<(quick ? 1 : 5)).map { _ in
        time {
            for inputs in mined {
                for r in inputs {
                    switch r {
                    case .span: counts[0] += 1
                    case .log: counts[1] += 1
                    case .metric, .anomaly: counts[2] += 1
                    }
                }
            }
        }
    })
    let rate = Double(records) / graphSeconds
    print(String(format: "\ngraph ingest (Nezha, %d records, assembled in 10-s windows): %@ records on one core; a counting loop over the same records: %@ (ratio %.0f×)",
                 records, formatRate(rate), formatRate(Double(records) / loopSeconds), (Double(records) / loopSeconds) / rate))
    figures.set("graph_ingest_records_per_s", rate)
    figures.set("graph_windows", windows)

    // PetShop: metrics and a call graph.
    let petshop = try PetShopDataset.load(root.appendingPathComponent("petshop"))
    let (petEvaluations, _) = try evaluate(quick ? Array(petshop.prefix(8)) : petshop)
    print("\nPetShop: \(petEvaluations[0].results.count) cases")
    for e in petEvaluations { print(e.table()) }
    let published: [String: (Double, Double)] = [
        "low latency": (0.571, 0.571), "low availability": (0.833, 1.000), "high latency": (0.571, 0.786),
        "high availability": (0.667, 1.000), "temporal latency": (1.000, 1.000), "temporal availability": (0.750, 1.000),
    ]
    var rows: [(String, String)] = []
    for g in petEvaluations[0].groups {
        let (t1, t3) = published[g] ?? (.nan, .nan)
        let n = petEvaluations[0].results.filter { $0.group == g }.count
        rows.append((g, String(format: "%2d issues   top-1 %.3f (traversal %.3f)   top-3 %.3f (traversal %.3f)", n,
                               petEvaluations[0].accuracy(at: 1, group: g), t1, petEvaluations[0].accuracy(at: 3, group: g), t3)))
    }
    printTable("PetShop, Vigil's evidence ranker against the authors' graph traversal (their figures: all 68 issues)", rows)
    figures.set("petshop_cases", petEvaluations[0].results.count)
    figures.set("petshop_top1", petEvaluations[0].accuracy(at: 1))
    figures.set("petshop_top3", petEvaluations[0].accuracy(at: 3))
    for g in petEvaluations[0].groups {
        let key = g.replacingOccurrences(of: " ", with: "_")
        figures.set("petshop_\(key)_top1", petEvaluations[0].accuracy(at: 1, group: g))
        figures.set("petshop_\(key)_top3", petEvaluations[0].accuracy(at: 3, group: g))
    }
    for e in petEvaluations.dropFirst() {
        let key = e.ranker.replacingOccurrences(of: "-", with: "_")
        figures.set("petshop_\(key)_top1", e.accuracy(at: 1))
        figures.set("petshop_\(key)_top3", e.accuracy(at: 3))
    }
    rankMillis += petEvaluations[0].results.map(\.rankMillis)
    figures.set("rank_ms_median", median(rankMillis))
    figures.set("rank_ms_max", rankMillis.max() ?? 0)
    figures.set("nezha_replay_ms_median", median(nezhaReplay))
    figures.set("peak_rss_mb", peakRSSMegabytes())
    print(String(format: "\nranking an incident (evidence ranker, from its indicators): median %.3f ms, slowest %.3f ms", median(rankMillis), rankMillis.max() ?? 0))
    return figures
}
