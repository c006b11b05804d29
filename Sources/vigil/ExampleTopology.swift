import Foundation
import Stream

/// One synthetic request.
struct Request: Sendable {
    var service: String
    var latencyMs: Double
    var isError: Bool
    var timestamp: Timestamp
}

/// Deterministic synthetic traffic: request i happens at i ms and arrives up to `disorder` ms
/// late (so out of order by at most that), its service chosen by a hash of i; latency varies per service around a base; after
/// 60% of the requests, `faultService` gets `faultFactor` times slower.
struct LatencyWorkload: Sendable {
    static let disorder: Int64 = 500
    let events: Int
    let serviceNames: [String]
    let faultService: String
    let faultFactor: Double
    var faultStart: Timestamp { Timestamp(Double(events) * 0.6) }

    init(events: Int, services: Int, faultService: String, faultFactor: Double) {
        self.events = events
        let known = ["frontend", "checkout", "cart", "payment", "shipping", "currency", "catalog",
                     "recommendation", "ad", "email", "auth", "inventory"]
        self.serviceNames = (0..<services).map { $0 < known.count ? known[$0] : "service-\($0)" }
        self.faultService = faultService
        self.faultFactor = faultFactor
    }

    @Sendable func request(_ i: Int) -> Request {
        let h = KeyGroups.murmurMix(UInt64(i))
        let service = serviceNames[Int(h % UInt64(serviceNames.count))]
        let base = 5.0 + Double(Int(h >> 8) % 7) * 3.0            // 5–23 ms by service
        let noise = Double(Int(h >> 16) % 1000) / 1000.0          // uniform 0–1
        var latency = base * (0.5 + noise)
        let delay = Int64(h >> 32) % (LatencyWorkload.disorder + 1)
        let timestamp = max(0, Timestamp(i) - delay)
        if service == faultService && Timestamp(i) >= faultStart { latency *= faultFactor }
        return Request(service: service, latencyMs: latency, isError: (h >> 40) % 100 == 0, timestamp: timestamp)
    }
}

struct LatencyStats: Sendable {
    var count = 0
    var errors = 0
    var sum = 0.0
    var max = 0.0
    var mean: Double { count == 0 ? 0 : sum / Double(count) }
}

struct LatencyStatsAggregate: AggregateFunction {
    func makeAccumulator() -> LatencyStats { LatencyStats() }
    func add(_ r: Request, to s: inout LatencyStats) {
        s.count += 1
        s.sum += r.latencyMs
        if r.isError { s.errors += 1 }
        if r.latencyMs > s.max { s.max = r.latencyMs }
    }
    func merge(_ o: LatencyStats, into s: inout LatencyStats) {
        s.count += o.count
        s.errors += o.errors
        s.sum += o.sum
        s.max = Swift.max(s.max, o.max)
    }
    func result(_ s: LatencyStats) -> LatencyStats { s }
}

struct ServiceWindow: Sendable {
    var service: String
    var window: TimeWindow
    var stats: LatencyStats
}

/// The detector's verdict on one service window.
struct Finding: Sendable {
    var isAnomaly: Bool
    var text: String
}

/// Per service, an exponentially weighted baseline of window mean latency (keyed state);
/// a window whose mean exceeds 3× the baseline, after a warm-up, is an anomaly.
struct BaselineDetector: KeyedProcessFunction, Sendable {
    var baseline: ValueState<String, Double>!
    var windowsSeen: ValueState<String, Int>!

    mutating func open(_ ctx: KeyedContext<String, Finding>) throws {
        baseline = try ctx.valueState("baseline")
        windowsSeen = try ctx.valueState("windows")
    }

    func processElement(_ w: ServiceWindow, _ ctx: KeyedContext<String, Finding>) throws {
        let seen = (windowsSeen.value ?? 0) + 1
        windowsSeen.update(seen)
        let mean = w.stats.mean
        let when = "[\(w.window.start / 1000)s, \(w.window.end / 1000)s)"
        let summary = String(format: "%@ %@: %d requests, mean %.1f ms, max %.1f ms, %d errors",
                             w.service, when, w.stats.count, mean, w.stats.max, w.stats.errors)
        guard let expected = baseline.value else {
            baseline.update(mean)
            try ctx.emit(Finding(isAnomaly: false, text: summary))
            return
        }
        let ratio = mean / expected
        if seen > 3 && ratio > 3 {
            try ctx.emit(Finding(isAnomaly: true, text: String(
                format: "ANOMALY %@ %@: mean latency %.1f ms is %.1f× its baseline %.1f ms (%d requests)",
                w.service, when, mean, ratio, expected, w.stats.count)))
            return  // an anomalous window does not teach the baseline
        }
        baseline.update(expected * 0.8 + mean * 0.2)
        try ctx.emit(Finding(isAnomaly: false, text: summary))
    }
}
