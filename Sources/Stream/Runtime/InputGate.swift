/// The channels feeding one logical input of a task. Combines per-channel watermarks into the
/// input's watermark: the minimum over channels that are neither idle nor finished.
struct InputGate {
    private var watermarks: [Timestamp]
    private var idle: [Bool]
    private var ended: [Bool]
    private var emitted: Timestamp = Watermarks.initial
    private(set) var isIdle = false

    init(channels: Int) {
        watermarks = Array(repeating: Watermarks.initial, count: channels)
        idle = Array(repeating: false, count: channels)
        ended = Array(repeating: false, count: channels)
    }

    var allEnded: Bool { ended.allSatisfy { $0 } }

    /// The input's new watermark, if it advanced.
    mutating func update(channel: Int, watermark: Timestamp) -> Timestamp? {
        watermarks[channel] = max(watermarks[channel], watermark)
        return recompute()
    }

    /// The input's new idleness, if it changed.
    mutating func update(channel: Int, idle isChannelIdle: Bool) -> Bool? {
        idle[channel] = isChannelIdle
        return statusChange()
    }

    mutating func end(channel: Int) -> (watermark: Timestamp?, idle: Bool?) {
        ended[channel] = true
        return (recompute(), statusChange())
    }

    private mutating func statusChange() -> Bool? {
        let nowIdle = !allEnded && watermarks.indices.allSatisfy { idle[$0] || ended[$0] }
        guard nowIdle != isIdle else { return nil }
        isIdle = nowIdle
        return nowIdle
    }

    mutating func recompute() -> Timestamp? {
        var combined = Timestamp.max
        var anyActive = false
        for c in watermarks.indices where !idle[c] && !ended[c] {
            anyActive = true
            combined = min(combined, watermarks[c])
        }
        if !anyActive {
            // Every channel finished: event time is over. All idle: hold.
            guard allEnded else { return nil }
            combined = watermarks.max() ?? Watermarks.initial
        }
        guard combined > emitted else { return nil }
        emitted = combined
        return combined
    }
}
