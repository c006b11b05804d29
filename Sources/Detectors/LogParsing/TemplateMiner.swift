/// A streaming log template miner in the manner of Drain (He et al., ICWS 2017): messages are
/// tokenised with parameters marked (`LogTokenizer`), grouped by token count and leading
/// words, and join the most similar template in their group or start a new one. Joining
/// generalises the template where they differ, down to the piece (`user=root` and
/// `user=news` give `user=<*>`). A template keeps its id as it generalises.
///
/// Beyond Drain: a position where messages differ by a word stays constant while it has seen
/// few words (`maxConstantVariants`), so `VM Started` and `VM Paused` remain two events of one
/// template (`LogMatch.variant`) while `Invalid user <*>` becomes a parameter; and a message
/// that differs from a template in two words is not joined to it.
///
/// Memory is bounded: at most `maxTemplates` templates (least recently matched evicted), and
/// message tokens are interned only when a template keeps them. Not thread-safe: one per task.
public final class TemplateMiner {
    public let config: TemplateMinerConfig

    let tokenizer: LogTokenizer
    /// Every template; a value, so that a keyed operator can keep one per key in its state
    /// (`withStore`), checkpoints copy it consistently, and a restored one can be set here.
    public var store = TemplateStore()
    public var templateCount: Int { store.templateCount }

    /// Called with a template just before it is evicted.
    public var onEvict: ((TemplateSnapshot) -> Void)?

    // The last message's tokens: interned id (-1 when no template has it), hash and flags.
    private var lineIDs = ScratchBuffer<Int32>(capacity: 256)
    private var lineHashes = ScratchBuffer<UInt64>(capacity: 256)
    private var lineFlags = ScratchBuffer<TokenTable.Flags>(capacity: 256)
    private var lastSlot: Int32 = -1
    private var widened = ScratchBuffer<UInt8>(capacity: 256)
    private var merged = ScratchBuffer<UInt8>(capacity: 256)

    deinit {
        widened.deallocate()
        merged.deallocate()
        lineIDs.deallocate()
        lineHashes.deallocate()
        lineFlags.deallocate()
    }

    public init(config: TemplateMinerConfig = TemplateMinerConfig()) throws {
        if let problem = config.problem { throw TemplateMinerError(description: problem) }
        self.config = config
        tokenizer = LogTokenizer(masks: try config.masks.map { try PCRERegex($0) })
    }

    // MARK: matching

    /// Mines one message (its content, without the log header).
    @discardableResult
    public func add(_ message: UnsafeBufferPointer<UInt8>) -> LogMatch {
        tokenizer.tokenize(message)
        let n = tokenizer.count
        lineIDs.count = 0
        lineHashes.count = 0
        lineFlags.count = 0
        for k in 0..<n {
            let token = tokenizer.token(k)
            let h = TokenTable.hash(token)
            lineHashes.append(h)
            if let id = store.table.id(of: token, hash: h) {
                lineIDs.append(id)
                lineFlags.append(store.table.flags[Int(id)])
            } else {
                lineIDs.append(-1)
                lineFlags.append(TokenTable.flags(of: token))
            }
        }
        let leaf = leafKey()
        if let slot = bestTemplate(in: leaf) {
            let changed = join(slot)
            touch(slot)
            lastSlot = slot
            return LogMatch(templateID: store.templates[Int(slot)].id, variant: variantKey(slot), kind: changed ? .generalized : .matched)
        }
        let slot = create(leaf: leaf)
        lastSlot = slot
        return LogMatch(templateID: store.templates[Int(slot)].id, variant: variantKey(slot), kind: .new)
    }

    public func add(_ message: String) -> LogMatch {
        var m = message
        return m.withUTF8 { add($0) }
    }

    private func leafKey() -> UInt64 {
        var h = UInt64(lineIDs.count) &* 0x9E3779B97F4A7C15
        for k in 0..<min(lineIDs.count, config.depth - 2) {
            let part: UInt64 = lineFlags[k].contains(.keyword) ? lineHashes[k] : 0x5bd1e995
            h = (h ^ part) &* 0x100000001b3
            h ^= h >> 31
        }
        return h
    }

    private func bestTemplate(in leaf: UInt64) -> Int32? {
        guard let candidates = store.leaves[leaf] else { return nil }
        let n = lineIDs.count
        var best: Int32 = -1
        var bestEqual = -1, bestParameters = -1
        for slot in candidates {
            var equal = 0, parameters = 0, wordDifferences = 0
            let sameLength = store.templates.withUnsafeBufferPointer { all in all[Int(slot)].tokens.count == n }
            guard sameLength else { continue }  // a leaf-key collision
            store.templates.withUnsafeBufferPointer { all in
              all[Int(slot)].tokens.withUnsafeBufferPointer { tokens in
                store.table.flags.withUnsafeBufferPointer { flags in
                  for k in 0..<n {
                    let a = tokens[k], b = lineIDs[k]
                    let aFlags = flags[Int(a)]
                    if aFlags.contains(.wildcard) { parameters += 1 }
                    if a == b {
                        if !aFlags.contains(.wildcard) { equal += 1 }
                    } else if aFlags.contains(.word) && lineFlags[k].contains(.word) {
                        wordDifferences += 1
                    }
                  }
                }
              }
            }
            if wordDifferences >= 2 { continue }
            if equal > bestEqual || (equal == bestEqual && parameters > bestParameters) {
                best = slot
                bestEqual = equal
                bestParameters = parameters
            }
        }
        guard best >= 0 else { return nil }
        let similarity = n == 0 ? 1 : Double(bestEqual) / Double(n)
        return similarity >= config.similarity ? best : nil
    }

    /// Folds the last message into template `slot`; true when the template text changed.
    private func join(_ slot: Int32) -> Bool {
        // Edited in place, position by position: most positions match and cost two reads.
        let i = Int(slot)
        var changed = false
        for k in 0..<lineIDs.count {
            let a = store.templates[i].tokens[k]
            let b = lineIDs[k]
            let lineIsWord = lineFlags[k].contains(.word)
            switch store.templates[i].variants[k] {
            case .words(let values):
                if lineIsWord {
                    let id = internLineToken(k)
                    if !values.contains(id) {
                        store.templates[i].variants[k] = values.count + 1 > config.maxConstantVariants ? .parameter : .words(values + [id])
                    }
                } else {
                    store.templates[i].variants[k] = .parameter
                }
            case .constant where a != b:
                if store.table.flags[Int(a)].contains(.word) && lineIsWord && config.maxConstantVariants >= 2 {
                    store.templates[i].variants[k] = .words([a, internLineToken(k)])
                } else {
                    store.templates[i].variants[k] = .parameter
                }
            case .constant, .parameter:
                break
            }
            // `<*>` covers anything; otherwise widen (often to the same token: `user=<*>`).
            if a != b && !store.table.flags[Int(a)].contains(.wildcard) {
                let generalised = generalise(a, k)
                if generalised != a {
                    store.templates[i].tokens[k] = generalised
                    changed = true
                }
            }
        }
        store.templates[i].count += 1
        return changed
    }

    private func lineToken(_ k: Int) -> UnsafeBufferPointer<UInt8> { tokenizer.token(k) }

    private func internLineToken(_ k: Int) -> Int32 {
        if lineIDs[k] >= 0 { return lineIDs[k] }
        let id = store.table.intern(lineToken(k), hash: lineHashes[k])
        lineIDs[k] = id
        return id
    }

    /// Template token `a` widened to cover message token `k`: where both split into the same
    /// pieces, only differing pieces become `<*>`; otherwise the common prefix and suffix up
    /// to punctuation are kept around one `<*>`. Most calls find `a` covering `k` already
    /// (`user=<*>` and `user=news`) and return it without building anything.
    private func generalise(_ a: Int32, _ k: Int) -> Int32 {
        let y = lineToken(k)
        let covered = store.table.withBytes(a) { x in Self.covers(x, y) }
        if covered { return a }
        widened.count = 0
        store.table.withBytes(a) { x in
            if !Self.mergePieceWise(x, y, into: &widened) {
                widened.count = 0
                var prefix = 0, lastDelimiter = 0
                while prefix < min(x.count, y.count) && x[prefix] == y[prefix] {
                    prefix += 1
                    if ByteClass.isTokenDelimiter(x[prefix - 1]) { lastDelimiter = prefix }
                }
                var suffix = 0, suffixAtDelimiter = 0
                while suffix < min(x.count, y.count) - lastDelimiter && x[x.count - 1 - suffix] == y[y.count - 1 - suffix] {
                    suffix += 1
                    if ByteClass.isTokenDelimiter(x[x.count - suffix]) { suffixAtDelimiter = suffix }
                }
                widened.append(UnsafeBufferPointer(rebasing: x[..<lastDelimiter]))
                TemplateNormalizer.appendWildcard(&widened)
                widened.append(UnsafeBufferPointer(rebasing: x[(x.count - suffixAtDelimiter)...]))
            }
        }
        tokenizer.normalize(widened.buffer, into: &merged)
        let result = merged.buffer
        return store.table.intern(result, hash: TokenTable.hash(result))
    }

    /// Whether template token `x` already matches `y` piece by piece: the same punctuation,
    /// equal pieces, and `<*>` where `y` has any piece.
    static func covers(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0, j = 0
        while i < x.count && j < y.count {
            let xd = ByteClass.isTokenDelimiter(x[i]), yd = ByteClass.isTokenDelimiter(y[j])
            if xd || yd {
                guard xd && yd && x[i] == y[j] else { return false }
                i += 1; j += 1
                continue
            }
            var i2 = i, j2 = j
            while i2 < x.count && !ByteClass.isTokenDelimiter(x[i2]) { i2 += 1 }
            while j2 < y.count && !ByteClass.isTokenDelimiter(y[j2]) { j2 += 1 }
            let isWildcard = i2 - i == 3 && x.hasWildcard(at: i)
            guard isWildcard || UnsafeBufferPointer(rebasing: x[i..<i2]).elementsEqual(UnsafeBufferPointer(rebasing: y[j..<j2])) else { return false }
            i = i2; j = j2
        }
        return i == x.count && j == y.count
    }

    /// `x` and `y` split at punctuation into the same number of pieces with the same
    /// punctuation: the pieces where they differ as `<*>`, into `out`. False when the shapes differ.
    static func mergePieceWise(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>, into out: inout ScratchBuffer<UInt8>) -> Bool {
        var i = 0, j = 0
        while i < x.count || j < y.count {
            guard i < x.count, j < y.count else { return false }
            let xd = ByteClass.isTokenDelimiter(x[i]), yd = ByteClass.isTokenDelimiter(y[j])
            if xd || yd {
                guard xd && yd && x[i] == y[j] else { return false }
                out.append(x[i])
                i += 1; j += 1
                continue
            }
            var i2 = i, j2 = j
            while i2 < x.count && !ByteClass.isTokenDelimiter(x[i2]) { i2 += 1 }
            while j2 < y.count && !ByteClass.isTokenDelimiter(y[j2]) { j2 += 1 }
            let a = UnsafeBufferPointer(rebasing: x[i..<i2])
            if a.elementsEqual(UnsafeBufferPointer(rebasing: y[j..<j2])) { out.append(a) } else { TemplateNormalizer.appendWildcard(&out) }
            i = i2; j = j2
        }
        return true
    }

    private func create(leaf: UInt64) -> Int32 {
        if store.templateCount >= config.maxTemplates, store.lruTail >= 0 { evict(store.lruTail) }
        let tokens = (0..<lineIDs.count).map { internLineToken($0) }
        let template = TemplateStore.Template(id: store.nextID, tokens: tokens, variants: Array(repeating: .constant, count: tokens.count), count: 1, leaf: leaf)
        store.nextID += 1
        let slot: Int32
        if let free = store.freeSlots.popLast() {
            slot = free
            store.templates[Int(slot)] = template
        } else {
            slot = Int32(store.templates.count)
            store.templates.append(template)
        }
        store.slotOfID[template.id] = slot
        store.leaves[leaf, default: []].append(slot)
        linkAtHead(slot)
        store.templateCount += 1
        return slot
    }

    // MARK: events

    /// Identifies the last message's event within its template: the same for messages with
    /// the same words where the template keeps words (`VM Started` vs `VM Paused`).
    private func variantKey(_ slot: Int32) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        store.templates.withUnsafeBufferPointer { all in
            for (k, v) in all[Int(slot)].variants.enumerated() {
                if case .parameter = v { continue }
                h = (h ^ lineHashes[k] ^ UInt64(k)) &* 0x100000001b3
                h ^= h >> 29
            }
        }
        return h
    }

    /// The last message's event template: its template with the constant variants it has.
    public func lastEventTemplate() -> String {
        guard lastSlot >= 0 else { return "" }
        let t = store.templates[Int(lastSlot)]
        var out: [UInt8] = []
        for k in 0..<t.tokens.count {
            if k > 0 { out.append(0x20) }
            if case .words = t.variants[k] { out.append(contentsOf: lineToken(k)) } else { out.append(contentsOf: store.table.bytes(t.tokens[k])) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The last message's parameters: the text under each template position that holds `<*>`.
    public func lastParameters(of message: UnsafeBufferPointer<UInt8>) -> [String] {
        guard lastSlot >= 0 else { return [] }
        let t = store.templates[Int(lastSlot)]
        var result: [String] = []
        for k in 0..<t.tokens.count where store.table.bytes(t.tokens[k]).contains(0x2A) && Self.containsWildcard(store.table.bytes(t.tokens[k])) {
            result.append(String(decoding: UnsafeBufferPointer(rebasing: message[tokenizer.rawRange(k)]), as: UTF8.self))
        }
        return result
    }

    /// The last message's tokens as the miner saw them (parameters marked), to resolve its
    /// event template later against the template's final state (`TemplateSnapshot.text`).
    public func lastTokens() -> [[UInt8]] {
        (0..<tokenizer.count).map { Array(lineToken($0)) }
    }

    static func containsWildcard(_ s: ArraySlice<UInt8>) -> Bool {
        s.withUnsafeBufferPointer { p in (0..<p.count).contains { p.hasWildcard(at: $0) } }
    }

    /// The template's current state, or nil when there is no such template (any more).
    public func snapshot(of templateID: UInt64) -> TemplateSnapshot? {
        store.slotOfID[templateID].map { snapshot(slot: $0) }
    }

    public var allTemplates: [TemplateSnapshot] {
        store.slotOfID.keys.sorted().map { snapshot(slot: store.slotOfID[$0]!) }
    }

    func snapshot(slot: Int32) -> TemplateSnapshot {
        let t = store.templates[Int(slot)]
        var constantVariants: [Bool] = []
        for v in t.variants { if case .words = v { constantVariants.append(true) } else { constantVariants.append(false) } }
        return TemplateSnapshot(id: t.id, tokens: t.tokens.map { Array(store.table.bytes($0)) }, keepsValue: constantVariants, count: t.count)
    }

    // MARK: least recently used

    private func linkAtHead(_ slot: Int32) {
        store.templates[Int(slot)].previous = -1
        store.templates[Int(slot)].next = store.lruHead
        if store.lruHead >= 0 { store.templates[Int(store.lruHead)].previous = slot }
        store.lruHead = slot
        if store.lruTail < 0 { store.lruTail = slot }
    }

    private func unlink(_ slot: Int32) {
        let p = store.templates[Int(slot)].previous, n = store.templates[Int(slot)].next
        if p >= 0 { store.templates[Int(p)].next = n } else { store.lruHead = n }
        if n >= 0 { store.templates[Int(n)].previous = p } else { store.lruTail = p }
    }

    private func touch(_ slot: Int32) {
        guard store.lruHead != slot else { return }
        unlink(slot)
        linkAtHead(slot)
    }

    private func evict(_ slot: Int32) {
        onEvict?(snapshot(slot: slot))
        unlink(slot)
        let t = store.templates[Int(slot)]
        if var siblings = store.leaves[t.leaf] {
            siblings.removeAll { $0 == slot }
            store.leaves[t.leaf] = siblings.isEmpty ? nil : siblings
        }
        store.slotOfID[t.id] = nil
        store.templates[Int(slot)].tokens = []
        store.templates[Int(slot)].variants = []
        store.freeSlots.append(slot)
        store.templateCount -= 1
        if store.table.count > 4 * (store.templateCount + 1) * 16 && store.table.count > 65_536 { compactTokens() }
    }

    /// Drops interned tokens no template uses any more (after many evictions/generalisations).
    func compactTokens() {
        var live = [Bool](repeating: false, count: store.table.count)
        for slot in store.slotOfID.values {
            let t = store.templates[Int(slot)]
            for id in t.tokens { live[Int(id)] = true }
            for case .words(let values) in t.variants { for id in values { live[Int(id)] = true } }
        }
        let (compacted, remap) = store.table.compacted { live[Int($0)] }
        store.table = compacted
        for slot in store.slotOfID.values {
            store.templates[Int(slot)].tokens = store.templates[Int(slot)].tokens.map { remap[Int($0)] }
            store.templates[Int(slot)].variants = store.templates[Int(slot)].variants.map {
                if case .words(let values) = $0 { return .words(values.map { remap[Int($0)] }) }
                return $0
            }
        }
    }
}

/// The outcome of mining one message.
public struct LogMatch: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The message started a new template.
        case new
        /// It joined a template and made it more general.
        case generalized
        /// It joined a template as it was.
        case matched
    }
    /// Stable while the template generalises.
    public var templateID: UInt64
    /// Which event of the template: equal for messages with the same words at the positions
    /// the template keeps (see `TemplateMinerConfig.maxConstantVariants`).
    public var variant: UInt64
    public var kind: Kind
}

/// A template as it stands, independent of the miner's internals.
public struct TemplateSnapshot: Sendable, Equatable {
    public var id: UInt64
    public var tokens: [[UInt8]]
    /// Positions that keep the message's word (a constant variant).
    public var keepsValue: [Bool]
    public var count: Int

    public var text: String { String(decoding: Array(tokens.joined(separator: [0x20])), as: UTF8.self) }

    /// The event template of a message with `messageTokens` (from `TemplateMiner.lastTokens`).
    public func text(messageTokens: [[UInt8]]) -> String {
        var parts = tokens
        for k in 0..<parts.count where keepsValue[k] && k < messageTokens.count { parts[k] = messageTokens[k] }
        return String(decoding: Array(parts.joined(separator: [0x20])), as: UTF8.self)
    }
}

public struct TemplateMinerError: Error, CustomStringConvertible {
    public var description: String
}
