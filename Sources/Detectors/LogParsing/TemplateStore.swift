/// The templates a `TemplateMiner` has mined: interned tokens, templates, the parse tree's
/// leaves and the least-recently-used order. A plain value (no references, Sendable), so a
/// keyed operator keeps one per key in keyed state, and a checkpoint's copy of it stays as it
/// was while processing goes on. What it means is in `TemplateMiner`.
public struct TemplateStore: Sendable, Equatable {
    var table = TokenTable()
    var templates: [Template] = []
    var freeSlots: [Int32] = []
    var slotOfID: [UInt64: Int32] = [:]
    var leaves: [UInt64: [Int32]] = [:]
    var nextID: UInt64 = 1
    /// Least recently matched at `lruTail`; -1 when empty.
    var lruHead: Int32 = -1
    var lruTail: Int32 = -1
    public internal(set) var templateCount = 0

    public init() {}

    struct Template: Sendable, Equatable {
        var id: UInt64
        var tokens: [Int32]
        var variants: [Variants]
        var count: Int
        var leaf: UInt64
        var previous: Int32 = -1
        var next: Int32 = -1
    }

    /// What a template position has seen: one value, a few words, or anything.
    enum Variants: Sendable, Equatable {
        case constant
        case words([Int32])
        case parameter
    }
}

extension TemplateStore {
    public func contains(_ templateID: UInt64) -> Bool { slotOfID[templateID] != nil }

    /// The template's text as it stands (constant variants shown as `<*>`), or nil.
    public func text(of templateID: UInt64) -> String? {
        guard let slot = slotOfID[templateID] else { return nil }
        return String(decoding: Array(templates[Int(slot)].tokens.map { Array(table.bytes($0)) }.joined(separator: [0x20])), as: UTF8.self)
    }
}
