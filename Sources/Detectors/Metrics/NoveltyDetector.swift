import Foundation
import Stream

/// Has this series been here before? Values are cut into `levels` bands (their width fixed from
/// the spread of the warm-up points; beyond that spread bands widen geometrically, so a spike
/// that recurs at roughly the same height lands in a band already known), and the
/// last 1…`maxContext` bands form words. A word never seen before is novelty; the share of
/// context lengths whose word is new is the raw anomaly. It catches what distance-based
/// detectors miss: a familiar value in an unfamiliar order (a flat stretch in a daily cycle, a
/// cycle that changed shape), in the spirit of the "contextual" NAB detectors (CAD OSE, HTM).
/// Words live in a bounded open-addressing table (`memory` slots); when it fills, it starts over,
/// which forgets old patterns rather than growing. O(maxContext) per point.
public struct NoveltyDetector: AnomalyDetector {
    public static let name = "novelty"

    public struct Config: Sendable, Equatable {
        public var levels: Double = 10
        public var maxContext: Int = 6
        /// Points that fix the band width (robust spread: 2nd to 98th percentile).
        public var warmup: Int = 300
        /// Slots in the word table (a power of two).
        public var memory: Int = 1 << 14
        /// The share of new words that makes an anomaly. At 1 even the single latest band is
        /// new: a level never visited. Lower values flag new orders of familiar values, which on
        /// noisy series happen all the time (long words rarely repeat exactly); the ensemble
        /// uses the share itself, calibrated, not this flag.
        public var threshold: Double = 1
        /// The range the series is known to stay in, when it is known: the bands divide it
        /// instead of the warm-up's spread.
        public var valueRange: ClosedRange<Double>? = nil
        public init() {}
    }

    public let config: Config
    var warmupValues: [Double] = []
    var origin = 0.0
    var width = 0.0
    /// The last maxContext bands, newest last.
    var recent: [Int64] = []
    var table: [UInt64]
    var used = 0

    public init(config: Config = Config()) {
        self.config = config
        var slots = 1
        while slots < max(config.memory, 64) { slots <<= 1 }
        table = [UInt64](repeating: 0, count: slots)
    }

    public mutating func update(time: Int64, value x: Double) -> DetectorVerdict {
        if width == 0 {
            warmupValues.append(x)
            guard warmupValues.count >= config.warmup else { return .learning(config.warmup - warmupValues.count) }
            fixBands()
            for v in warmupValues { _ = observe(band(of: v)) }
            warmupValues = []
            return .learning(0)
        }
        let (novelty, newLevel) = observe(band(of: x))
        let surprise = 10 * novelty
        return DetectorVerdict(score: GaussianTail.score(surprise: surprise), isAnomaly: novelty >= config.threshold,
                               expected: origin...(origin + width * config.levels),
                               reason: .novelty(share: novelty, newLevel: newLevel))
    }

    @inline(__always)
    func band(of x: Double) -> Int64 {
        var b = ((x - origin) / width).rounded(.down)
        let top = config.levels
        if b > top { b = top + log2(1 + (b - top)).rounded(.down) } else if b < -1 { b = -1 - log2(-b).rounded(.down) }
        return Int64(max(-1e6, min(1e6, b)))
    }

    private mutating func fixBands() {
        let sorted = warmupValues.sorted()
        let low = sorted[Int(0.02 * Double(sorted.count - 1))]
        let high = sorted[Int(0.98 * Double(sorted.count - 1))]
        width = (high - low) / config.levels
        if !(width > 0) { width = max(abs(sorted[sorted.count / 2]) * 1e-2, 1e-6) }
        origin = low
        if let known = config.valueRange, known.upperBound > known.lowerBound {
            origin = known.lowerBound
            width = (known.upperBound - known.lowerBound) / config.levels
        }
    }

    /// Adds the band and its words; returns the share of context lengths whose word was new,
    /// and whether the band alone was.
    private mutating func observe(_ b: Int64) -> (share: Double, newLevel: Bool) {
        if recent.count == config.maxContext { recent.removeFirst() }
        recent.append(b)
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
        var new = 0
        var i = recent.count - 1
        var length = 0
        var newLevel = false
        while i >= 0 {
            hash = (hash ^ UInt64(bitPattern: recent[i])) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            length += 1
            if insert(hash | 1) {
                new += 1
                if length == 1 { newLevel = true }
            }
            i -= 1
        }
        return (Double(new) / Double(max(length, 1)), newLevel)
    }

    /// True when the word was not in the table.
    private mutating func insert(_ word: UInt64) -> Bool {
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: word >> 17) & mask
        while true {
            let held = table[slot]
            if held == word { return false }
            if held == 0 {
                if used * 4 >= table.count * 3 {   // full enough: forget and start over
                    for j in table.indices { table[j] = 0 }
                    used = 0
                    return insert(word)
                }
                table[slot] = word
                used += 1
                return true
            }
            slot = (slot + 1) & mask
        }
    }
}

extension NoveltyDetector.Config: StateCodable {
    public func encode(to w: inout StateWriter) {
        levels.encode(to: &w); maxContext.encode(to: &w); warmup.encode(to: &w); memory.encode(to: &w); threshold.encode(to: &w)
        valueRange.encodeRange(to: &w)
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var c = Self()
        c.levels = try .decode(from: &r); c.maxContext = try .decode(from: &r); c.warmup = try .decode(from: &r)
        c.memory = try .decode(from: &r); c.threshold = try .decode(from: &r)
        c.valueRange = try .decodeRange(from: &r)
        return c
    }
}

extension NoveltyDetector {
    public func encode(to w: inout StateWriter) {
        config.encode(to: &w); warmupValues.encode(to: &w); origin.encode(to: &w); width.encode(to: &w)
        recent.encode(to: &w); used.encode(to: &w)
        // Only the occupied slots, with their positions: the table is mostly empty.
        for (slot, word) in table.enumerated() where word != 0 { w.writeVarint(slot); word.encode(to: &w) }
    }
    public static func decode(from r: inout StateReader) throws -> Self {
        var d = Self(config: try .decode(from: &r))
        d.warmupValues = try .decode(from: &r); d.origin = try .decode(from: &r); d.width = try .decode(from: &r)
        d.recent = try .decode(from: &r); d.used = try .decode(from: &r)
        for _ in 0..<d.used {
            let slot = try r.readVarint()
            guard slot < d.table.count else { throw StateDecodingError("novelty detector: slot \(slot) of \(d.table.count)") }
            d.table[slot] = try .decode(from: &r)
        }
        return d
    }
}
