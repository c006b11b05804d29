/// Mines messages and reports each one's event template as it stands after the last message,
/// as Loghub's tools report a parse (a streaming consumer uses `TemplateMiner` directly and
/// sees templates as they are at each message). Keeps every message's tokens until `resolve`.
public final class TemplateAssignments {
    public let miner: TemplateMiner
    private var assigned: [(template: UInt64, tokens: [[UInt8]])] = []
    private var evicted: [UInt64: TemplateSnapshot] = [:]

    public init(miner: TemplateMiner) {
        self.miner = miner
        miner.onEvict = { [unowned self] in self.evicted[$0.id] = $0 }
    }

    public var count: Int { assigned.count }

    @discardableResult
    public func add(_ message: UnsafeBufferPointer<UInt8>) -> LogMatch {
        let match = miner.add(message)
        assigned.append((match.templateID, miner.lastTokens()))
        return match
    }

    /// Each message's final event template, in the order they were added.
    public func resolve() -> [String] {
        assigned.map { (miner.snapshot(of: $0.template) ?? evicted[$0.template])?.text(messageTokens: $0.tokens) ?? "" }
    }
}
