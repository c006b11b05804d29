import Stream

/// Templates in a checkpoint: the interned tokens and every template in least-recently-used
/// order, with the leaves in their own order (ties between equally similar templates go to
/// the first), so that a restored store continues exactly where this one stood: same ids,
/// same eviction order, same matches.
extension TemplateStore: StateCodable {
    // 2: leaf keys from `TokenTable.hash` reading eight bytes at a time.
    private static let formatVersion: UInt8 = 2

    public func encode(to w: inout StateWriter) {
        w.write(Self.formatVersion)
        w.writeVarint(table.count)
        for id in 0..<table.count { w.write(bytes: table.bytes(Int32(id))) }
        w.writeVarint64(nextID)
        w.writeVarint(templateCount)
        var slot = lruTail
        while slot >= 0 {
            let t = templates[Int(slot)]
            w.writeVarint64(t.id)
            w.writeVarint(t.count)
            w.write(t.leaf)
            w.writeVarint(t.tokens.count)
            for (token, variants) in zip(t.tokens, t.variants) {
                w.writeVarint(Int(token))
                switch variants {
                case .constant: w.write(UInt8(0))
                case .parameter: w.write(UInt8(1))
                case .words(let values):
                    w.write(UInt8(2))
                    w.writeVarint(values.count)
                    for v in values { w.writeVarint(Int(v)) }
                }
            }
            slot = t.previous
        }
        w.writeVarint(leaves.count)
        for (leaf, slots) in leaves.sorted(by: { $0.key < $1.key }) {
            w.write(leaf)
            w.writeVarint(slots.count)
            for slot in slots { w.writeVarint64(templates[Int(slot)].id) }
        }
    }

    public static func decode(from r: inout StateReader) throws -> TemplateStore {
        let version: UInt8 = try r.read()
        guard version == formatVersion else { throw StateDecodingError("template store version \(version), this build reads \(formatVersion)") }
        var store = TemplateStore()
        let tokenCount = try r.readVarint()
        for _ in 0..<tokenCount {
            _ = Array(try r.readBytes()).withUnsafeBufferPointer { store.table.intern($0, hash: TokenTable.hash($0)) }
        }
        guard store.table.count == tokenCount else { throw StateDecodingError("template store repeats a token") }
        func token() throws -> Int32 {
            let id = try r.readVarint()
            guard id < tokenCount else { throw StateDecodingError("template token \(id) of \(tokenCount)") }
            return Int32(id)
        }
        store.nextID = try r.readVarint64()
        let count = try r.readVarint()
        for _ in 0..<count {
            let id = try r.readVarint64()
            let uses = try r.readVarint()
            let leaf: UInt64 = try r.read()
            let n = try r.readVarint()
            var tokens: [Int32] = [], variants: [Variants] = []
            for _ in 0..<n {
                tokens.append(try token())
                switch try r.read(UInt8.self) {
                case 0: variants.append(.constant)
                case 1: variants.append(.parameter)
                case 2: variants.append(.words(try (0..<r.readVarint()).map { _ in try token() }))
                case let kind: throw StateDecodingError("template position kind \(kind)")
                }
            }
            store.appendMostRecent(Template(id: id, tokens: tokens, variants: variants, count: uses, leaf: leaf))
        }
        for _ in 0..<(try r.readVarint()) {
            let leaf: UInt64 = try r.read()
            store.leaves[leaf] = try (0..<r.readVarint()).map { _ in
                let id = try r.readVarint64()
                guard let slot = store.slotOfID[id] else { throw StateDecodingError("leaf names unknown template \(id)") }
                return slot
            }
        }
        return store
    }

    /// Appends a decoded template as the most recently used (templates arrive oldest first).
    private mutating func appendMostRecent(_ template: Template) {
        let slot = Int32(templates.count)
        templates.append(template)
        slotOfID[template.id] = slot
        templates[Int(slot)].previous = -1
        templates[Int(slot)].next = lruHead
        if lruHead >= 0 { templates[Int(lruHead)].previous = slot }
        lruHead = slot
        if lruTail < 0 { lruTail = slot }
        templateCount += 1
    }
}

extension TemplateMiner {
    /// Runs `body` with this miner working on `store` (a key's templates, say) instead of its
    /// own; the store comes back updated. Swaps, so nothing is copied.
    public func withStore<R>(_ store: inout TemplateStore, _ body: (TemplateMiner) throws -> R) rethrows -> R {
        swap(&self.store, &store)
        defer { swap(&self.store, &store) }
        return try body(self)
    }
}
