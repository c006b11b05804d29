import Foundation

/// The function symbols of an ELF64 file (.symtab, else .dynsym) and its loadable segments,
/// enough to name an address that lies in a mapping of the file.
struct ELFSymbols: Sendable {
    struct Symbol { var start: UInt64; var size: UInt64; var name: String }
    private var symbols: [Symbol] = []
    private var segments: [(offset: UInt64, vaddr: UInt64, size: UInt64)] = []

    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path), data.count > 64 else { return nil }
        let ok: Bool = data.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> Bool in
            guard b[0] == 0x7F, b[1] == 0x45, b[2] == 0x4C, b[3] == 0x46, b[4] == 2, b[5] == 1 else { return false }  // ELF64, little-endian
            func u16(_ o: Int) -> Int { Int(b.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
            func u32(_ o: Int) -> UInt32 { b.loadUnaligned(fromByteOffset: o, as: UInt32.self) }
            func u64(_ o: Int) -> UInt64 { b.loadUnaligned(fromByteOffset: o, as: UInt64.self) }
            let phoff = Int(u64(0x20)), phentsize = u16(0x36), phnum = u16(0x38)
            for i in 0..<phnum where phoff + (i + 1) * phentsize <= b.count {
                let p = phoff + i * phentsize
                if u32(p) == 1 { segments.append((u64(p + 8), u64(p + 16), u64(p + 32))) }  // PT_LOAD
            }
            let shoff = Int(u64(0x28)), shentsize = u16(0x3A), shnum = u16(0x3C)
            guard shoff > 0, shoff + shnum * shentsize <= b.count else { return true }
            func section(_ i: Int) -> (type: UInt32, offset: Int, size: Int, link: Int, entsize: Int) {
                let s = shoff + i * shentsize
                return (u32(s + 4), Int(u64(s + 24)), Int(u64(s + 32)), Int(u32(s + 40)), Int(u64(s + 56)))
            }
            let tables = (0..<shnum).map(section)
            // .symtab has every function; .dynsym only the exported ones (all a stripped file has).
            guard let table = tables.first(where: { $0.type == 2 }) ?? tables.first(where: { $0.type == 11 }),
                  table.link < tables.count, table.entsize >= 24, table.offset + table.size <= b.count else { return true }
            let strings = tables[table.link]
            guard strings.offset + strings.size <= b.count else { return true }
            for i in 0..<(table.size / table.entsize) {
                let e = table.offset + i * table.entsize
                guard b[e + 4] & 0xF == 2 else { continue }  // STT_FUNC
                let value = u64(e + 8)
                guard value != 0 else { continue }
                let nameOffset = strings.offset + Int(u32(e))
                guard nameOffset < strings.offset + strings.size else { continue }
                var end = nameOffset
                while end < b.count, b[end] != 0 { end += 1 }
                symbols.append(Symbol(start: value, size: u64(e + 16), name: String(decoding: b[nameOffset..<end], as: UTF8.self)))
            }
            return true
        }
        guard ok else { return nil }
        symbols.sort { $0.start < $1.start }
    }

    /// The symbol at a virtual address of the file.
    func name(atVirtualAddress a: UInt64) -> String? {
        var lo = 0, hi = symbols.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if symbols[mid].start <= a { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let s = symbols[lo - 1]
        return a < s.start + max(s.size, 1) ? s.name : nil
    }

    /// The file's virtual address of a file offset (through its loadable segments).
    func virtualAddress(ofFileOffset o: UInt64) -> UInt64? {
        guard let s = segments.first(where: { o >= $0.offset && o < $0.offset + $0.size }) else { return nil }
        return o - s.offset + s.vaddr
    }
}
