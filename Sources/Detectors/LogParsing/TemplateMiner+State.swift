import Foundation
import Stream

/// The miner's whole state in a checkpoint: its configuration, the interned tokens, and every
/// template in least-recently-used order, so a restored miner continues exactly where this one
/// stood (same ids, same eviction order, same matches).
extension TemplateMiner {
    private static let formatVersion: UInt8 = 1

    public func encodeState(to w: inout StateWriter) {
        w.write(Self.formatVersion)
        w.write(String(decoding: try! JSONEncoder().encode(config), as: UTF8.self))
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
        // Leaves in their own order: ties between equally similar templates go to the first.
        w.writeVarint(leaves.count)
        for (leaf, slots) in leaves.sorted(by: { $0.key < $1.key }) {
            w.write(leaf)
            w.writeVarint(slots.count)
            for slot in slots { w.writeVarint64(templates[Int(slot)].id) }
        }
    }

    public static func decodeState(from r: inout StateReader) throws -> TemplateMiner {
        let version: UInt8 = try r.read()
        guard version == formatVersion else { throw StateDecodingError("template miner state version \(version), this build reads \(formatVersion)") }
        let config = try JSONDecoder().decode(TemplateMinerConfig.self, from: Data(try r.readString().utf8))
        let miner = try TemplateMiner(config: config)
        let tokenCount = try r.readVarint()
        for _ in 0..<tokenCount {
            _ = Array(try r.readBytes()).withUnsafeBufferPointer { miner.table.intern($0, hash: TokenTable.hash($0)) }
        }
        guard miner.table.count == tokenCount else { throw StateDecodingError("template miner state repeats a token") }
        func token() throws -> Int32 {
            let id = try r.readVarint()
            guard id < tokenCount else { throw StateDecodingError("template token \(id) of \(tokenCount)") }
            return Int32(id)
        }
        miner.nextID = try r.readVarint64()
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
            miner.restore(Template(id: id, tokens: tokens, variants: variants, count: uses, leaf: leaf))
        }
        for _ in 0..<(try r.readVarint()) {
            let leaf: UInt64 = try r.read()
            miner.leaves[leaf] = try (0..<r.readVarint()).map { _ in
                let id = try r.readVarint64()
                guard let slot = miner.slotOfID[id] else { throw StateDecodingError("leaf names unknown template \(id)") }
                return slot
            }
        }
        return miner
    }

    /// Appends a decoded template as the most recently used (templates arrive oldest first).
    private func restore(_ template: Template) {
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
