import Stream

/// The last `capacity` values of a series, kept both in arrival order (to know which value
/// leaves) and sorted (for medians and quantiles in O(1)). A new value replaces the oldest
/// with one binary search and one shift of the values between their two positions — a
/// memmove of at most `capacity` doubles, which for windows of a few thousand points is
/// cheaper than a balanced tree's pointer chasing.
struct SortedWindow: Sendable, Equatable {
    let capacity: Int
    private(set) var arrival: [Double] = []   // a ring once full
    private var oldest = 0
    private(set) var sorted: [Double] = []

    init(capacity: Int) {
        precondition(capacity > 0, "a window holds at least one value")
        self.capacity = capacity
        arrival.reserveCapacity(capacity)
        sorted.reserveCapacity(capacity)
    }

    var count: Int { sorted.count }
    var isFull: Bool { sorted.count == capacity }

    mutating func add(_ x: Double) {
        if arrival.count < capacity {
            arrival.append(x)
            sorted.insert(x, at: insertionIndex(of: x))
            return
        }
        let leaving = arrival[oldest]
        arrival[oldest] = x
        oldest = oldest + 1 == capacity ? 0 : oldest + 1
        var from = insertionIndex(of: leaving)  // the first copy of `leaving`
        if from >= sorted.count || sorted[from] != leaving { from = sorted.firstIndex(of: leaving)! }  // only NaN-free input reaches here
        let to = insertionIndex(of: x)
        sorted.withUnsafeMutableBufferPointer { s in
            let base = s.baseAddress!
            if to > from + 1 {
                // x goes after the leaving value: pull the values in between one step down.
                (base + from).update(from: base + from + 1, count: to - 1 - from)
                base[to - 1] = x
            } else if to < from {
                (base + to + 1).update(from: base + to, count: from - to)
                base[to] = x
            } else {
                base[from] = x
            }
        }
    }

    /// The first index whose value is not less than x.
    private func insertionIndex(of x: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if sorted[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The median (the mean of the two middle values for an even count).
    var median: Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }

    /// The q-quantile by linear interpolation between the closest ranks.
    func quantile(_ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let below = Int(position)
        let above = min(below + 1, sorted.count - 1)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }

    /// The median absolute deviation from `center`, in O(log n): the deviations of the values
    /// below and above the center form two sorted sequences, and their k-th smallest is found
    /// by bisecting how many come from each (the upper middle for an even count).
    func medianAbsoluteDeviation(from center: Double) -> Double {
        let n = sorted.count
        guard n > 0 else { return 0 }
        let split = insertionIndex(of: center)             // sorted[..<split] < center ≤ sorted[split...]
        let belowCount = split, aboveCount = n - split
        return sorted.withUnsafeBufferPointer { s -> Double in
            @inline(__always) func below(_ j: Int) -> Double { center - s[split - 1 - j] }   // ascending in j
            @inline(__always) func above(_ j: Int) -> Double { s[split + j] - center }       // ascending in j
            let k = n / 2  // 0-based rank of the deviation wanted
            // Take `a` deviations from below and k + 1 − a from above; find the a where the
            // merge is consistent.
            var lo = max(0, k + 1 - aboveCount), hi = min(k + 1, belowCount)
            while lo < hi {
                let a = (lo + hi) >> 1
                // Too few from below if the next one below is smaller than the last one above.
                if a < belowCount && k - a >= 0 && below(a) < above(k - a) { lo = a + 1 } else { hi = a }
            }
            let a = lo
            let fromBelow = a > 0 ? below(a - 1) : -Double.infinity
            let fromAbove = k + 1 - a > 0 ? above(k - a) : -Double.infinity
            return max(fromBelow, fromAbove)
        }
    }
}

extension SortedWindow: StateCodable {
    func encode(to w: inout StateWriter) {
        w.writeVarint(capacity)
        w.writeVarint(arrival.count)
        for i in 0..<arrival.count { arrival[(oldest + i) % arrival.count].encode(to: &w) }  // oldest first
    }
    static func decode(from r: inout StateReader) throws -> SortedWindow {
        let capacity = try r.readVarint()
        let n = try r.readVarint()
        guard capacity > 0, n <= capacity else { throw StateDecodingError("sorted window of \(n) values in \(capacity)") }
        var window = SortedWindow(capacity: capacity)
        for _ in 0..<n { window.add(try Double.decode(from: &r)) }
        return window
    }
}
