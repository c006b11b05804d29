import Stream

/// A detector's declared value range (`Config.valueRange`) in checkpoints: absent, or its two
/// bounds. A decoded range that is not one (lower above upper, NaN) is reported as corrupt
/// state rather than trapping.
extension Optional where Wrapped == ClosedRange<Double> {
    func encodeRange(to w: inout StateWriter) {
        (self?.lowerBound).encode(to: &w)
        (self?.upperBound).encode(to: &w)
    }

    static func decodeRange(from r: inout StateReader) throws -> ClosedRange<Double>? {
        let lower = try Double?.decode(from: &r), upper = try Double?.decode(from: &r)
        guard let lower, let upper else { return nil }
        guard lower <= upper else { throw StateDecodingError("a detector's value range \(lower)...\(upper) is empty") }
        return lower...upper
    }
}
