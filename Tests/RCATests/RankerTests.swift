import XCTest
@testable import RCA

/// Faults injected into a synthetic call chain; propagation makes every caller of the faulty
/// service look bad too, and the rankers must still name the faulty one.
final class RankerTests: XCTestCase {
    let chain = ["gateway", "orders", "payments", "ledger"]

    /// Ten minutes of normal traffic, then three of the fault.
    func run(fault: (inout SyntheticSystem, Int) -> Void, normal: (inout SyntheticSystem, Int) -> Void) -> RankingInput {
        var system = SyntheticSystem()
        for s in stride(from: 0, to: 600, by: 2) { normal(&system, s) }
        for s in stride(from: 600, to: 780, by: 2) { fault(&system, s) }
        return system.input(incidentFrom: 600, to: 780)
    }

    func testACodeFaultIsFoundByTheLogLineThatVanishedNotByItsCallersErrors() {
        let usual: [String: [UInt64]] = ["payments": [10, 11, 12], "orders": [20]]
        let input = run(fault: { system, s in
            // payments skips line 11 and logs an error; its callers log errors in turn.
            system.request(chain: chain, second: s, lines: ["payments": [10, 950, 12], "orders": [20, 960], "gateway": [970]], errors: ["payments", "orders", "gateway"])
        }, normal: { system, s in system.request(chain: chain, second: s, lines: usual) })
        let ranked = EvidenceRanker().rank(input)
        XCTAssertEqual(ranked.first?.entity, .service("payments"), "\(ranked.prefix(3))")
        XCTAssertEqual(ranked.first?.path, [.service("gateway"), .service("orders"), .service("payments")])
        XCTAssertTrue(ranked.first?.evidence.contains { $0.kind == .logPresence || $0.kind == .logSequence || $0.kind == .newTemplate } ?? false)
    }

    func testASlowNetworkIntoOneServiceBlamesTheServiceAllSlowEdgesShare() {
        // Both callers of ledger see 50 ms more wire time; their own latency follows.
        var system = SyntheticSystem()
        for s in stride(from: 0, to: 600, by: 2) {
            system.request(chain: chain, second: s)
            system.request(chain: ["reports", "ledger"], second: s)
        }
        for s in stride(from: 600, to: 780, by: 2) {
            system.request(chain: chain, second: s, slowLink: "ledger", slowWireMicros: 50_000)
            system.request(chain: ["reports", "ledger"], second: s, slowLink: "ledger", slowWireMicros: 50_000)
        }
        let input = system.input(incidentFrom: 600, to: 780)
        XCTAssertEqual(EvidenceRanker().rank(input).first?.entity, .service("ledger"))
        XCTAssertEqual(PageRankRanker().rank(input).first?.entity, .service("ledger"))
    }

    func testASlowServiceIsFoundByItsOwnTimeThoughEveryCallerIsSlowerToo() {
        // ledger's own time goes from 1 ms to 40 ms; every caller's latency follows.
        let input = run(fault: { system, s in system.request(chain: chain, second: s, selfMicros: ["ledger": 40_000]) },
                        normal: { system, s in system.request(chain: chain, second: s) })
        XCTAssertTrue(input.indicators.contains { $0.kind == .latency && $0.entity == .service("gateway") })
        XCTAssertEqual(EvidenceRanker().rank(input).first?.entity, .service("ledger"))
        let selfTime = input.indicators.first { $0.kind == .selfTime && $0.entity == .service("ledger") }
        XCTAssertNotNil(selfTime)
        XCTAssertGreaterThan(selfTime!.ratio, 20)
    }

    func testNoFaultMeansNoAnomalousService() {
        let input = run(fault: { system, s in system.request(chain: chain, second: s, lines: ["orders": [20]]) },
                        normal: { system, s in system.request(chain: chain, second: s, lines: ["orders": [20]]) })
        XCTAssertTrue(input.indicators.isEmpty, "\(input.indicators)")
        XCTAssertLessThan(EvidenceRanker().rank(input).first?.score ?? 0, 1)
    }

    func testASymptomLimitsCandidatesToWhatItDependsOn() {
        var input = run(fault: { system, s in system.request(chain: chain, second: s, selfMicros: ["orders": 60_000]) },
                        normal: { system, s in system.request(chain: chain, second: s) })
        input.symptom = .service("payments")
        XCTAssertEqual(input.candidates, [.service("payments"), .service("ledger")])
    }

    /// Latency adds up along a call: a database 60 ms slower does not explain a service 400 ms
    /// slower, so the service is the cause, and the database is not on the path from the symptom.
    func testACalleeTooLittleSlowerToExplainItsCallerDoesNotTakeTheBlame() {
        var base = GraphWindow(start: 0, end: 600_000)
        var cur = GraphWindow(start: 600_000, end: 900_000)
        for w in [0, 1] {
            var window = w == 0 ? base : cur
            window.calls[CallKey(caller: .service("site"), callee: .service("pay"))] = CallStats()
            window.calls[CallKey(caller: .service("pay"), callee: .service("db"))] = CallStats()
            if w == 0 { base = window } else { cur = window }
        }
        func add(_ w: inout GraphWindow, _ e: String, _ v: Double) { w.metrics[MetricKey(entity: .service(e), name: "latency Average"), default: MetricSummary()].add(v) }
        for i in 0..<50 {
            let j = Double(i % 5) / 1000
            add(&base, "site", 0.10 + j); add(&base, "pay", 0.20 + j); add(&base, "db", 0.005 + j / 10)
        }
        add(&cur, "site", 0.30); add(&cur, "pay", 0.60); add(&cur, "db", 0.065)
        var input = RankingInput(current: cur, baseline: base, indicators: IndicatorExtractor().indicators(current: cur, baseline: base),
                                 symptom: .service("site"), symptomSignal: .latency)
        XCTAssertEqual(input.indicators.count, 3, "\(input.indicators)")
        XCTAssertEqual(EvidenceRanker().rank(input).first?.entity, .service("pay"))
        // Were the database 300 ms slower, it would explain the caller and be the cause.
        cur.metrics[MetricKey(entity: .service("db"), name: "latency Average")] = { var m = MetricSummary(); m.add(0.305); return m }()
        input.current = cur
        input.indicators = IndicatorExtractor().indicators(current: cur, baseline: base)
        XCTAssertEqual(EvidenceRanker().rank(input).first?.entity, .service("db"))
    }

    /// A resource metric alone is weaker evidence than a change in what a service's requests do:
    /// a busy pod is not a failing one, unless its requests suffer too.
    func testABusyPodAloneIsOutrankedByAServiceWhoseRequestsChanged() {
        var w = GraphWindow(start: 0, end: 60_000)
        w.operations[OperationKey(service: "batch", operation: "run")] = OperationStats()
        w.operations[OperationKey(service: "cart", operation: "get")] = OperationStats()
        var cpu = Indicator(kind: .metric, entity: .service("batch"), surprise: 6, ratio: 10, detail: "batch-0 cpu 5 → 50")
        cpu.metricName = "cpu"
        let lines = Indicator(kind: .logPresence, entity: .service("cart"), surprise: 4.5, ratio: 0, effect: 1, detail: "get: line 12 in 0/40 spans")
        var input = RankingInput(current: w, baseline: w, indicators: [cpu, lines])
        XCTAssertEqual(EvidenceRanker().rank(input).first?.entity, .service("cart"))
        // With its requests slower too, the busy pod's metric counts in full.
        input.indicators.append(Indicator(kind: .latency, entity: .service("batch"), surprise: 3.5, ratio: 12, detail: "run latency ×12"))
        XCTAssertEqual(EvidenceRanker().rank(input).first?.entity, .service("batch"))
    }

    /// A window whose services call each other as `calls` says, and hand-made indicators: each
    /// service's own time moved with the given surprise.
    func handMade(calls: [(String, String)], selfTime: [String: Double]) -> RankingInput {
        var w = GraphWindow(start: 0, end: 60_000)
        for (a, b) in calls {
            w.calls[CallKey(caller: .service(a), callee: .service(b))] = CallStats()
            for s in [a, b] { w.operations[OperationKey(service: s, operation: "op")] = OperationStats() }
        }
        let indicators = selfTime.sorted { $0.key < $1.key }.map { name, surprise in
            Indicator(kind: .selfTime, entity: .service(name), surprise: surprise, ratio: 20, detail: "\(name) self time ×20")
        }
        return RankingInput(current: w, baseline: w, indicators: indicators)
    }

    /// A callee weaker than half its anomalous caller cannot account for it, so it gets no
    /// credit for that caller's evidence nor for anything above it. Counting the whole path made
    /// the callee of a starved service outrank the service (Nezha, cpu_contention in
    /// ts-basic-service: ts-station-service first) once the path weighed as much as a
    /// candidate's own evidence.
    func testACalleeDoesNotInheritTheEvidenceOfACallerItCannotAccountFor() {
        let input = handMade(calls: [("gateway", "travel"), ("travel", "basic"), ("basic", "station")],
                          selfTime: ["gateway": 20, "travel": 30, "basic": 140, "station": 69])
        let ranked = EvidenceRanker().rank(input)
        XCTAssertEqual(ranked.first?.entity, .service("basic"), "\(ranked.prefix(3))")
        XCTAssertEqual(ranked.first?.path, [.service("gateway"), .service("travel"), .service("basic")])
    }

    /// Of two unexplained anomalies, the one that accounts for anomalous callers explains more
    /// of what was seen than an isolated one a little stronger (Nezha, a network delay into
    /// ts-security-service under a slower ts-preserve-other-service, against a database query
    /// of ts-inside-payment-service that nothing else felt).
    func testAnAnomalyThatAccountsForItsCallersOutranksASlightlyStrongerIsolatedOne() {
        let input = handMade(calls: [("site", "front"), ("front", "sec"), ("site", "pay")],
                          selfTime: ["front": 5, "sec": 6, "pay": 9.6])
        let ranked = EvidenceRanker().rank(input)
        XCTAssertEqual(ranked.first?.entity, .service("sec"), "\(ranked.prefix(3))")
        XCTAssertEqual(ranked.first?.path, [.service("front"), .service("sec")])
    }
}
