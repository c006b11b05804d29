import Detectors
import Stream

/// The hotspot-shift detector over the profiler's windows: one detector per host, in keyed
/// state (so in checkpoints), fed each profile's leaf-function counts.
public struct HotspotShiftFunction: KeyedProcessFunction, @unchecked Sendable {
    // @unchecked: the state handle is made in `open`, per subtask, and used by its thread only.
    public typealias Key = String
    public typealias Input = CPUProfile
    public typealias Output = HotspotShift

    let makeDetector: @Sendable () -> HotspotShiftDetector
    private var state: ValueState<String, HotspotShiftDetector>!

    public init(_ makeDetector: @escaping @Sendable () -> HotspotShiftDetector = { HotspotShiftDetector() }) { self.makeDetector = makeDetector }

    public mutating func open(_ context: KeyedContext<String, HotspotShift>) throws {
        state = try context.valueState("hotspot-shifts", HotspotShiftDetector.self)
    }

    public mutating func processElement(_ profile: CPUProfile, _ context: KeyedContext<String, HotspotShift>) throws {
        let (counts, total) = profile.leafCounts()
        let end = profile.endUnixNanos / 1_000_000
        let shifts = state.mutate(default: makeDetector) { $0.observe(samples: counts, total: total, windowEnd: end) }
        for s in shifts { try context.emit(s, timestamp: end) }
    }
}

extension DataStream where T == CPUProfile {
    /// Functions whose share of the CPU moved against their baseline, per host.
    public func hotspotShifts(_ makeDetector: @escaping @Sendable () -> HotspotShiftDetector = { HotspotShiftDetector() }) -> DataStream<HotspotShift> {
        keyBy { _ in HostClock.hostName }.process(name: "hotspot-shifts", HotspotShiftFunction(makeDetector))
    }
}
