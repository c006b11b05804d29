import XCTest
@testable import RCA

final class IndicatorTests: XCTestCase {
    func testSurpriseScales() {
        XCTAssertEqual(TailSurprise.binomialAtLeast(0, of: 10, p: 0.5), 0)
        XCTAssertEqual(TailSurprise.binomialAtLeast(10, of: 10, p: 0.5), 10 * log10(2), accuracy: 1e-9)
        XCTAssertEqual(TailSurprise.binomialAtMost(0, of: 10, p: 0.5), 10 * log10(2), accuracy: 1e-9)
        XCTAssertEqual(TailSurprise.upperNormal(1.6448536), 1.30103, accuracy: 1e-4)  // 5%
        XCTAssertEqual(TailSurprise.chiSquared(3.841, degreesOfFreedom: 1), 1.30103, accuracy: 0.03)
        // t₃: P(|T| ≥ 3.182) = 5%; far out the tail still falls (no saturation).
        XCTAssertEqual(TailSurprise.studentT3(3.182), 1.30103, accuracy: 0.01)
        XCTAssertLessThan(TailSurprise.studentT3(1000), TailSurprise.studentT3(10_000))
        XCTAssertEqual(TailSurprise.poissonAtLeast(1, mean: 1), -log10(1 - exp(-1)), accuracy: 1e-6)
    }

    func testMetricsCountOnlyWhenTheyMoveTheBadWay() {
        var base = GraphWindow(start: 0, end: 600_000)
        var cur = GraphWindow(start: 600_000, end: 780_000)
        for v in [99.9, 100, 99.8, 100, 99.9] { base.metrics[MetricKey(entity: .service("api"), name: "availability"), default: MetricSummary()].add(v) }
        for v in [10.0, 11, 9, 10, 10] { base.metrics[MetricKey(entity: .service("api"), name: "latency p99"), default: MetricSummary()].add(v) }
        cur.metrics[MetricKey(entity: .service("api"), name: "availability"), default: MetricSummary()].add(80)
        cur.metrics[MetricKey(entity: .service("api"), name: "latency p99"), default: MetricSummary()].add(2)
        let found = IndicatorExtractor().indicators(current: cur, baseline: base)
        XCTAssertEqual(found.map(\.metricName), ["availability"])
        XCTAssertEqual(found.first?.family, .errors)
        XCTAssertEqual(SignalFamily.of(metric: "CpuUsageRate(%)"), .saturation)
        XCTAssertEqual(SignalFamily.of(metric: "latency p99"), .latency)
    }

    /// With one baseline reading, a metric's spread is what sampling alone would give: a
    /// statistic over n requests wanders by about itself over √n. Before, the floor was 1% of
    /// the mean whatever the traffic, and a step function's latency over 3 calls that went from
    /// 1.3 s to 4.6 s outranked a search service's over 600 calls that went from 7 ms to 50 ms.
    /// A long history's own spread outweighs that prior.
    func testWithAShortHistoryAShiftOverFewRequestsIsWeakerEvidence() {
        func surprise(readings: [Double], requests: Double, now: Double) -> Double {
            var base = GraphWindow(start: 0, end: 300_000)
            var cur = GraphWindow(start: 300_000, end: 600_000)
            let latency = MetricKey(entity: .service("api"), name: "latency Average")
            let count = MetricKey(entity: .service("api"), name: "requests Sum")
            for v in readings {
                base.metrics[latency, default: MetricSummary()].add(v)
                base.metrics[count, default: MetricSummary()].add(requests)
            }
            cur.metrics[latency, default: MetricSummary()].add(now)
            cur.metrics[count, default: MetricSummary()].add(requests)
            return IndicatorExtractor().indicators(current: cur, baseline: base).first { $0.metricName == latency.name }?.surprise ?? 0
        }
        let rare = surprise(readings: [1.3], requests: 3, now: 4.6)
        let busy = surprise(readings: [0.007], requests: 600, now: 0.05)
        XCTAssertGreaterThan(busy, rare + 1)
        XCTAssertLessThan(rare, 2.5, "×3.5 over 3 calls is within sampling noise of a heavy tail")
        // Sixty steady readings (±1%) outweigh the sampling prior: the same jump is an anomaly
        // (the ranker's threshold is 3).
        let steady = (0..<60).map { 1.3 * (1 + 0.01 * Double($0 % 3 - 1)) }
        XCTAssertGreaterThan(surprise(readings: steady, requests: 3, now: 4.6), 3)
    }

    func testAPodMetricIsEvidenceAboutTheServicesOnIt() {
        var base = GraphWindow(start: 0, end: 600_000)
        var cur = GraphWindow(start: 600_000, end: 780_000)
        for w in [0, 1] {
            var window = w == 0 ? base : cur
            window.runsOn.insert(Link(from: .service("cart"), to: Entity(.pod, "cart-7d9")))
            if w == 0 { base = window } else { cur = window }
        }
        for v in [1.0, 1.2, 0.9, 1.1] { base.metrics[MetricKey(entity: Entity(.pod, "cart-7d9"), name: "cpu"), default: MetricSummary()].add(v) }
        cur.metrics[MetricKey(entity: Entity(.pod, "cart-7d9"), name: "cpu"), default: MetricSummary()].add(90)
        let found = IndicatorExtractor().indicators(current: cur, baseline: base)
        XCTAssertEqual(found.map(\.entity), [.service("cart")])
    }

    /// A success rate is judged as failures over requests. The baseline's failure rate was once
    /// smoothed per reading (half a failure per reading: 17% from two spotless readings), which
    /// hid a drop from 100% to 96% over 144 requests; it is smoothed per request.
    func testAnAvailabilityDropAfterAShortSpotlessHistoryCounts() {
        var base = GraphWindow(start: 0, end: 600_000)
        var cur = GraphWindow(start: 600_000, end: 900_000)
        for _ in 0..<2 {
            base.metrics[MetricKey(entity: .service("api"), name: "availability Average"), default: MetricSummary()].add(100)
            base.metrics[MetricKey(entity: .service("api"), name: "requests Sum"), default: MetricSummary()].add(150)
        }
        cur.metrics[MetricKey(entity: .service("api"), name: "availability Average"), default: MetricSummary()].add(96.5)
        cur.metrics[MetricKey(entity: .service("api"), name: "requests Sum"), default: MetricSummary()].add(144)
        let found = IndicatorExtractor().indicators(current: cur, baseline: base).filter { $0.metricName.hasPrefix("availability") }
        XCTAssertEqual(found.count, 1)
        XCTAssertGreaterThan(found[0].surprise, 4, "5 failures in 144 against 0.5 in 300")
        // 0% over a single request is no news.
        cur.metrics[MetricKey(entity: .service("api"), name: "availability Average")] = { var m = MetricSummary(); m.add(0); return m }()
        cur.metrics[MetricKey(entity: .service("api"), name: "requests Sum")] = { var m = MetricSummary(); m.add(1); return m }()
        let one = IndicatorExtractor().indicators(current: cur, baseline: base).filter { $0.metricName.hasPrefix("availability") }
        XCTAssertLessThan(one.first?.surprise ?? 0, 3)
    }
}
