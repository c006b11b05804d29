import Stream

/// A keyed, timestamped test record.
struct Event: Sendable, Hashable, CustomStringConvertible {
    var key: String
    var value: Int
    var ts: Timestamp
    init(_ key: String, _ value: Int, at ts: Timestamp) { self.key = key; self.value = value; self.ts = ts }
    var description: String { "\(key)=\(value)@\(ts)" }
}

/// Sum and count of values: a small aggregate whose results are easy to compute by hand.
struct SumCount: AggregateFunction {
    // Codable only (not StateCodable): checkpoints of these tests exercise the JSON coder.
    struct Acc: Sendable, Hashable, Codable { var sum = 0; var count = 0 }
    func makeAccumulator() -> Acc { Acc() }
    func add(_ e: Event, to acc: inout Acc) { acc.sum += e.value; acc.count += 1 }
    func merge(_ o: Acc, into acc: inout Acc) { acc.sum += o.sum; acc.count += o.count }
    func result(_ acc: Acc) -> Acc { acc }
}

/// (key, window start, window end, sum, count): comparable window output.
struct Row: Hashable, Comparable, CustomStringConvertible {
    var key: String
    var start: Timestamp
    var end: Timestamp
    var sum: Int
    var count: Int
    static func < (a: Row, b: Row) -> Bool {
        (a.key, a.start, a.end, a.sum, a.count) < (b.key, b.start, b.end, b.sum, b.count)
    }
    var description: String { "\(key)[\(start),\(end)) sum=\(sum) n=\(count)" }
}

func row(_ r: WindowResult<String, SumCount.Acc>) -> Row {
    Row(key: r.key, start: r.window.start, end: r.window.end, sum: r.value.sum, count: r.value.count)
}

