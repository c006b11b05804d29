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
    func encode(to w: inout StateWriter) {
        w.writeVarint(capacity)
        w.writeVarint(values.count)
        for i in 0..<values.count { values[(next + i) % values.count].encode(to: &w) }  // oldest first
    }
    static func decode(from r: inout StateReader) throws -> MovingStatistics {
        let capacity = try r.readVarint()
        let n = try r.readVarint()
        guard capacity > 0, n <= capacity else { throw StateDecodingError("moving statistics of \(n) values in \(capacity)") }
        var m = MovingStatistics(capacity: capacity)
        for _ in 0..<n { m.add(try Double.decode(from: &r)) }
        return m
    }
}
