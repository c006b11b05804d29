import Stream

/// The mean and variance of the last `capacity` values, O(1) per value (running sums,
/// recomputed from the values once per pass over the ring so rounding does not accumulate).
struct MovingStatistics: Sendable, Equatable {
    let capacity: Int
    private(set) var values: [Double] = []
    private var next = 0
    private var sum = 0.0
    private var sumOfSquares = 0.0

    init(capacity: Int) {
        precondition(capacity > 0, "moving statistics over at least one value")
        self.capacity = capacity
    }

    var count: Int { values.count }
    var mean: Double { values.isEmpty ? 0 : sum / Double(values.count) }
    var variance: Double {
        let n = Double(values.count)
        guard n > 1 else { return 0 }
        return max(0, (sumOfSquares - sum * sum / n) / (n - 1))
    }

    mutating func add(_ x: Double) {
        if values.count < capacity {
            values.append(x)
            sum += x
            sumOfSquares += x * x
            return
        }
        let old = values[next]
        values[next] = x
        sum += x - old
        sumOfSquares += x * x - old * old
        next = next + 1 == capacity ? 0 : next + 1
        if next == 0 {
            sum = 0; sumOfSquares = 0
            for v in values { sum += v; sumOfSquares += v * v }
        }
    }
}

extension MovingStatistics: StateCodable {
    // The running sums are written as they are, not recomputed from the values: a recomputed
    // sum differs in its last bits, and a restored detector must continue bit for bit.
    func encode(to w: inout StateWriter) {
        w.writeVarint(capacity)
        values.encode(to: &w)
        w.writeVarint(next)
        sum.encode(to: &w)
        sumOfSquares.encode(to: &w)
    }
    static func decode(from r: inout StateReader) throws -> MovingStatistics {
        let capacity = try r.readVarint()
        var m = MovingStatistics(capacity: max(capacity, 1))
        m.values = try .decode(from: &r)
        m.next = try r.readVarint()
        m.sum = try .decode(from: &r)
        m.sumOfSquares = try .decode(from: &r)
        guard capacity > 0, m.values.count <= capacity, m.next < max(m.values.count, 1) || m.next == 0 else {
            throw StateDecodingError("moving statistics of \(m.values.count) values in \(capacity), next \(m.next)")
        }
        return m
    }
}
