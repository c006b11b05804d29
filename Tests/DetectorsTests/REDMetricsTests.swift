import Stream
import VigilTestSupport
import XCTest
@testable import Detectors

final class DDSketchTests: XCTestCase {
    /// Log-normal-ish latencies over six orders of magnitude; every quantile within 1% of the
    /// exact value at the same rank.
    func testQuantilesAreWithinTheRelativeAccuracy() {
        var random = SeededRandom(seed: 11)
        var sketch = DDSketch(relativeAccuracy: 0.01)
        var values: [Double] = []
        for _ in 0..<20_000 {
            let v = 0.001 * pow(10, Double(random.next() % 6_000_000) / 1_000_000)
            values.append(v)
            sketch.add(v)
        }
        values.sort()
        for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let exact = values[Int((q * Double(values.count - 1)).rounded(.down))]
            let estimate = sketch.quantile(q)!
            XCTAssertLessThanOrEqual(abs(estimate - exact) / exact, 0.01, "q=\(q): \(estimate) vs \(exact)")
        }
        XCTAssertEqual(sketch.count, 20_000)
    }

    func testMergingPiecesEqualsSketchingTheWhole() throws {
        var random = SeededRandom(seed: 12)
        var whole = DDSketch(), left = DDSketch(), right = DDSketch()
        for i in 0..<5_000 {
            let v = Double(random.next() % 100_000) / 10 + (i % 100 == 0 ? 0 : 0.5)
            whole.add(v)
            if i % 3 == 0 { left.add(v) } else { right.add(v) }
        }
        left.merge(right)
        for q in [0.5, 0.95, 0.99] { XCTAssertEqual(left.quantile(q), whole.quantile(q)) }
        XCTAssertEqual(left.count, whole.count)
        var w = StateWriter()
        left.encode(to: &w)
        var r = StateReader(w.bytes)
        XCTAssertEqual(try DDSketch.decode(from: &r), left)
    }

    func testZeroesAndTheBucketBound() {
        var s = DDSketch(relativeAccuracy: 0.01, maxBuckets: 64)
        for _ in 0..<10 { s.add(0) }
        for e in 0..<12 { s.add(pow(10, Double(e))) }   // far wider than 64 buckets
        XCTAssertEqual(s.quantile(0), 0)
        XCTAssertLessThanOrEqual(s.counts.count, 64)
        XCTAssertEqual(s.quantile(1)!, 1e11, accuracy: 1e11 * 0.01, "the top stays accurate; only the lowest buckets fold")
    }
}

final class REDMetricsTests: XCTestCase {
    func span(_ service: String, _ operation: String, at t: Int64, ms: Double, error: Bool = false) -> (SpanSample, Timestamp) {
        (SpanSample(service: service, operation: operation, startTime: t, durationNanos: UInt64(ms * 1e6), isError: error), t)
    }

    func testRateErrorsAndLatencyPerOperationAndWindow() throws {
        let h = StreamTestHarness(of: SpanSample.self) { $0.redMetrics(window: .seconds(10)) }
        var spans: [(SpanSample, Timestamp)] = []
        for i in 0..<100 {   // window [0, 10 s): 100 checkout calls, 1…100 ms, every 10th fails
            spans.append(span("checkout", "POST /cart", at: Int64(i) * 90, ms: Double(i + 1), error: i % 10 == 0))
        }
        spans.append(span("checkout", "GET /health", at: 500, ms: 0.2))
        spans.append(span("checkout", "POST /cart", at: 10_500, ms: 7))   // the next window
        try h.send(spans)
        try h.watermark(9_999)
        let first = h.takeOutput().sorted { $0.operation < $1.operation }
        XCTAssertEqual(first.map(\.operation), ["GET /health", "POST /cart"])
        let cart = first[1]
        XCTAssertEqual(cart.requests, 100)
        XCTAssertEqual(cart.errors, 10)
        XCTAssertEqual(cart.errorRatio, 0.1)
        XCTAssertEqual(cart.rate, 10)   // 100 in 10 s
        XCTAssertEqual(cart.windowStart, 0)
        XCTAssertEqual(cart.windowEnd, 10_000)
        // Lower-rank quantiles of 1…100 ms: p50 = 50, p95 = 95, p99 = 99, each within 1%.
        XCTAssertEqual(cart.p50, 50, accuracy: 0.5)
        XCTAssertEqual(cart.p95, 95, accuracy: 0.95)
        XCTAssertEqual(cart.p99, 99, accuracy: 0.99)
        XCTAssertEqual(cart.max, 100)
        XCTAssertEqual(cart.points.map(\.series), ["checkout POST /cart rate", "checkout POST /cart error_ratio", "checkout POST /cart p99_ms"])
        try h.end()
        XCTAssertEqual(h.takeOutput().map(\.requests), [1])
    }
}
