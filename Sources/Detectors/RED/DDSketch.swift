import Foundation
import Stream

/// A quantile sketch with relative error guarantees (DDSketch: Masson, Rim, Lee, VLDB 2019).
/// A positive value x falls in bucket ⌈log_γ x⌉ with γ = (1+α)/(1−α); reporting a bucket by
/// 2γⁱ/(γ+1) is then within α of every value in it, so any quantile is within relative error
/// α. Sketches of the same α merge by adding bucket counts, exactly, which is what lets a
/// window's latency percentiles come from per-subtask pieces. Values ≤ `minimumValue` count in
/// a zero bucket. Buckets are a dense array over the indices seen; past `maxBuckets` the lowest
/// ones are folded together, which only coarsens the smallest values (the paper's collapsing).
public struct DDSketch: Sendable, Equatable {
    public let relativeAccuracy: Double
    let gamma: Double
    let logGamma: Double
    let maxBuckets: Int
    /// The smallest value kept apart from zero.
    public static let minimumValue = 1e-9

    var counts: [UInt64] = []
    /// The bucket index of counts[0].
    var offset = 0
    public private(set) var zeroCount: UInt64 = 0
    public private(set) var count: UInt64 = 0
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity
    public private(set) var sum = 0.0

    public init(relativeAccuracy: Double = 0.01, maxBuckets: Int = 2048) {
        precondition(relativeAccuracy > 0 && relativeAccuracy < 1, "relative accuracy in (0, 1)")
        self.relativeAccuracy = relativeAccuracy
        gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
        logGamma = log(gamma)
        self.maxBuckets = Swift.max(maxBuckets, 16)
    }

    @inline(__always)
    func index(of x: Double) -> Int { Int((log(x) / logGamma).rounded(.up)) }

    public mutating func add(_ x: Double) {
        guard !x.isNaN else { return }
        count += 1
        sum += x
        if x < min { min = x }
        if x > max { max = x }
        guard x > Self.minimumValue else { zeroCount += 1; return }
        add(count: 1, at: index(of: x))
    }

    private mutating func add(count n: UInt64, at i: Int) {
        if counts.isEmpty {
            counts = [n]
            offset = i
            return
        }
        if i < offset {
            counts.insert(contentsOf: repeatElement(0, count: offset - i), at: 0)
            offset = i
        } else if i >= offset + counts.count {
            counts.append(contentsOf: repeatElement(0, count: i - offset - counts.count + 1))
        }
        counts[i - offset] += n
        if counts.count > maxBuckets { collapseLowest() }
    }

    /// Folds the lowest buckets into one so that at most `maxBuckets` remain.
    private mutating func collapseLowest() {
        let excess = counts.count - maxBuckets
        let folded = counts[0...excess].reduce(0, +)
        counts.removeFirst(excess)
        counts[0] = folded
        offset += excess
    }

    public mutating func merge(_ other: DDSketch) {
        precondition(other.relativeAccuracy == relativeAccuracy, "sketches merge only at the same accuracy")
        count += other.count
        sum += other.sum
        zeroCount += other.zeroCount
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        for (j, n) in other.counts.enumerated() where n > 0 { add(count: n, at: other.offset + j) }
    }

    /// The q-quantile (0 ≤ q ≤ 1) within the relative accuracy; nil when empty. The value
    /// reported is the lower rank's (NIST method ⌊q·(n−1)⌋), clamped to the exact min and max.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0, q >= 0, q <= 1 else { return nil }
        let rank = UInt64((q * Double(count - 1)).rounded(.down))
        if rank < zeroCount { return Swift.max(min, 0) }
        var seen = zeroCount
        for (j, n) in counts.enumerated() {
            seen += n
            if seen > rank {
                let estimate = 2 * pow(gamma, Double(offset + j)) / (gamma + 1)
                return Swift.min(Swift.max(estimate, min), max)
            }
        }
        return max
    }
}

extension DDSketch: StateCodable {
    public func encode(to w: inout StateWriter) {
        relativeAccuracy.encode(to: &w); maxBuckets.encode(to: &w)
        count.encode(to: &w); zeroCount.encode(to: &w); sum.encode(to: &w); min.encode(to: &w); max.encode(to: &w)
        w.write(Int64(offset))
        counts.encode(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> DDSketch {
        let accuracy = try Double.decode(from: &r)
        let maxBuckets = try Int.decode(from: &r)
        guard accuracy > 0, accuracy < 1, maxBuckets > 0 else { throw StateDecodingError("DDSketch: accuracy \(accuracy), \(maxBuckets) buckets") }
        var s = DDSketch(relativeAccuracy: accuracy, maxBuckets: maxBuckets)
        s.count = try .decode(from: &r); s.zeroCount = try .decode(from: &r); s.sum = try .decode(from: &r)
        s.min = try .decode(from: &r); s.max = try .decode(from: &r)
        s.offset = Int(try r.read(Int64.self))
        s.counts = try .decode(from: &r)
        guard s.counts.count <= s.maxBuckets, s.counts.reduce(0, +) + s.zeroCount == s.count else {
            throw StateDecodingError("DDSketch: bucket counts do not add up to the count")
        }
        return s
    }
}

extension DDSketch {
    /// How many values were above x, within the relative accuracy (a bucket counts as above
    /// when its representative value is).
    public func count(above x: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        if x < 0 { return count }
        var n: UInt64 = 0
        for (j, c) in counts.enumerated() where c > 0 && 2 * pow(gamma, Double(offset + j)) / (gamma + 1) > x { n += c }
        return n
    }
}
