import Stream

/// The policy engine on the runtime: its state (dedup keys, cooldowns, rate limits, the
/// decision sequence) is keyed state, in every checkpoint. One key, parallelism 1: limits are
/// global to the job, and decisions must come out in one order.
public struct RemediateFunction: KeyedProcessFunction, @unchecked Sendable {
    // @unchecked: the state handle is made in `open`, per subtask, and used by its thread only.
    public typealias Key = String
    public typealias Input = RemediationIncident
    public typealias Output = OutboxEntry

    let engine: PolicyEngine
    private var state: ValueState<String, PolicyState>!

    public init(config: RemediationConfig) { engine = PolicyEngine(config: config) }

    public mutating func open(_ context: KeyedContext<String, OutboxEntry>) throws {
        state = try context.valueState("policy-state", PolicyState.self)
    }

    public mutating func processElement(_ incident: RemediationIncident, _ context: KeyedContext<String, OutboxEntry>) throws {
        let now = context.currentProcessingTime
        let engine = self.engine
        let entries = state.mutate(default: { PolicyState(epoch: Self.newEpoch(now)) }) { s in engine.decide(incident, state: &s) }
        for e in entries { try context.emit(e) }
    }

    /// The processing time in base 36 and 16 random bits: two runs that start from nothing
    /// never share decision ids (and so idempotency keys).
    static func newEpoch(_ now: Timestamp) -> String {
        String(UInt64(max(0, now)), radix: 36) + String(UInt16.random(in: 0...UInt16.max), radix: 36)
    }
}

extension DataStream where T == RemediationIncident {
    /// Every policy's decision about every incident report (see `PolicyEngine`). Write the
    /// result with `writeToOutbox` so that actions run only after their checkpoint.
    public func remediate(_ config: RemediationConfig, name: String = "remediate") -> DataStream<OutboxEntry> {
        keyBy { _ in "remediation" }.process(name: name, parallelism: 1, RemediateFunction(config: config))
    }
}
