/// One task's part of a checkpoint: the state of every operator in its chain, keyed state
/// in one zstd block per key group (so a restore at another parallelism reads only the
/// groups it owns), and an index at the end. Layout in FORMAT.md.
enum TaskStateFile {
    static let magic: UInt32 = 0x5653_5431  // "VST1"
    static let version: UInt32 = 1

    /// One operator's snapshot as written by one subtask.
    struct Entry {
        var operatorID: String
        var subtask: Int
        var parallelism: Int
        var keyGroups: KeyGroupRange
        var snapshot: OperatorSnapshot
    }

    /// Encodes, compresses and lays out the file (off the task thread). Returns the bytes
    /// and the CRC-32C of the whole file (computed once, continuing the footer's).
    static func encode(_ entries: [Entry]) throws -> (bytes: [UInt8], crc32c: UInt32) {
        var file: [UInt8] = []
        var index = StateWriter()
        index.write(magic)
        index.write(version)
        index.writeVarint(entries.count)
        var raw = StateWriter(capacity: 1 << 16)
        var section = StateWriter(capacity: 1 << 16)
        let compressor = try Zstd.Compressor()
        for e in entries {
            index.write(e.operatorID)
            index.writeVarint(e.subtask)
            index.writeVarint(e.parallelism)
            if let s = e.snapshot.operatorState { index.write(UInt8(1)); index.write(bytes: s) } else { index.write(UInt8(0)) }
            let sections = e.snapshot.keyedSections
            index.writeVarint(sections.isEmpty ? 0 : e.keyGroups.count)
            guard !sections.isEmpty else { continue }
            index.writeVarint(e.keyGroups.start)
            for group in e.keyGroups.start..<e.keyGroups.endExclusive {
                raw.reset()
                raw.writeVarint(sections.count)
                for s in sections {
                    section.reset()
                    s.write(group, &section)
                    raw.write(s.name)
                    raw.writeVarint(section.count)
                    section.withUnsafeBytes { raw.append(raw: $0) }
                }
                let before = file.count
                try raw.withUnsafeBytes { try compressor.compress($0, appendingTo: &file) }
                index.writeVarint(before)
                index.writeVarint(file.count - before)
                index.writeVarint(raw.count)
            }
        }
        let indexOffset = UInt64(file.count)
        index.withUnsafeBytes { file.append(contentsOf: $0) }
        var footer = StateWriter()
        footer.write(indexOffset)
        file.append(contentsOf: footer.bytes)
        let crc = CRC32C.checksum(file)
        footer.reset()
        footer.write(crc)
        footer.write(magic)
        file.append(contentsOf: footer.bytes)
        let whole = footer.bytes.withUnsafeBytes { CRC32C.checksum($0, continuing: crc) }
        return (file, whole)
    }

    /// What the index says about one operator subtask in a file.
    struct IndexEntry {
        var operatorID: String
        var subtask: Int
        var parallelism: Int
        var operatorState: [UInt8]?
        /// key group → (offset, compressed length, raw length)
        var blocks: [Int: (offset: Int, length: Int, rawLength: Int)]
    }

    /// Checks the footer's checksum over the whole file.
    static func verify(_ file: [UInt8], name: String) throws {
        guard file.count >= 16 else { throw RestoreError("\(name): truncated (\(file.count) bytes)") }
        var footer = StateReader(file, offset: file.count - 8)
        let crc: UInt32 = try footer.read()
        let magic: UInt32 = try footer.read()
        guard magic == Self.magic else { throw RestoreError("\(name): not a task state file (bad magic)") }
        let actual = file.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<file.count - 8])) }
        guard actual == crc else { throw RestoreError("\(name): checksum mismatch (file says \(hex(crc)), content is \(hex(actual)))") }
    }

    static func readIndex(_ file: [UInt8], name: String) throws -> [IndexEntry] {
        try verify(file, name: name)
        var footer = StateReader(file, offset: file.count - 16)
        let indexOffset = Int(try footer.read(UInt64.self))
        guard indexOffset <= file.count - 16 else { throw RestoreError("\(name): index offset out of range") }
        var r = StateReader(file, offset: indexOffset, end: file.count - 16)
        guard try r.read(UInt32.self) == magic else { throw RestoreError("\(name): bad index magic") }
        let v: UInt32 = try r.read()
        guard v == version else { throw RestoreError("\(name): format version \(v), this build reads \(version)") }
        var entries: [IndexEntry] = []
        for _ in 0..<(try r.readVarint()) {
            var e = IndexEntry(operatorID: try r.readString(), subtask: try r.readVarint(), parallelism: try r.readVarint(),
                               operatorState: nil, blocks: [:])
            if try r.read(UInt8.self) == 1 { e.operatorState = Array(try r.readBytes()) }
            let groups = try r.readVarint()
            if groups > 0 {
                let start = try r.readVarint()
                for g in start..<start + groups {
                    let block = (offset: try r.readVarint(), length: try r.readVarint(), rawLength: try r.readVarint())
                    guard block.offset + block.length <= indexOffset else { throw RestoreError("\(name): block out of range") }
                    e.blocks[g] = block
                }
            }
            entries.append(e)
        }
        return entries
    }

    /// The sections of one key group's block: section name → encoded entries.
    static func readBlock(_ file: [UInt8], _ block: (offset: Int, length: Int, rawLength: Int),
                          decompressor: Zstd.Decompressor) throws -> [(String, [UInt8])] {
        let raw = try decompressor.decompress(file[block.offset..<block.offset + block.length], size: block.rawLength)
        var r = StateReader(raw)
        var sections: [(String, [UInt8])] = []
        for _ in 0..<(try r.readVarint()) {
            sections.append((try r.readString(), Array(try r.readBytes())))
        }
        return sections
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
