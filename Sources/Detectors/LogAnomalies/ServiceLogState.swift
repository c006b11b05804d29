import Stream

/// One service's state in the log-anomaly operator: its templates, the counts of the window
/// in progress, and the baselines the closed windows built.
struct ServiceLogState: Sendable, Equatable {
    var templates = TemplateStore()
    /// Start of the window in progress (`noTimestamp` before the first message).
    var windowStart: Timestamp = noTimestamp
    var closedWindows = 0
    var counts: [UInt64: Int] = [:]
    var errors = 0
    var rates: [UInt64: RateBaseline] = [:]
    var errorRate = RateBaseline()
}

extension ServiceLogState: StateCodable {
    func encode(to w: inout StateWriter) {
        templates.encode(to: &w)
        w.write(windowStart)
        w.writeVarint(closedWindows)
        w.writeVarint(counts.count)
        for (id, n) in counts.sorted(by: { $0.key < $1.key }) { w.writeVarint64(id); w.writeVarint(n) }
        w.writeVarint(errors)
        w.writeVarint(rates.count)
        for (id, b) in rates.sorted(by: { $0.key < $1.key }) { w.writeVarint64(id); b.encode(to: &w) }
        errorRate.encode(to: &w)
    }

    static func decode(from r: inout StateReader) throws -> ServiceLogState {
        var s = ServiceLogState()
        s.templates = try TemplateStore.decode(from: &r)
        s.windowStart = try r.read()
        s.closedWindows = try r.readVarint()
        for _ in 0..<(try r.readVarint()) { s.counts[try r.readVarint64()] = try r.readVarint() }
        s.errors = try r.readVarint()
        for _ in 0..<(try r.readVarint()) { s.rates[try r.readVarint64()] = try RateBaseline.decode(from: &r) }
        s.errorRate = try RateBaseline.decode(from: &r)
        return s
    }
}
