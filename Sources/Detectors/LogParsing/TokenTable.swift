import Foundation

/// Interns template tokens: each distinct byte string gets a small integer id, so templates
/// compare tokens as integers. Message tokens are only looked up, never added, so parameters
/// streaming past do not grow it; templates add theirs. Open addressing over one byte arena.
struct TokenTable: Sendable, Equatable {
    struct Flags: OptionSet, Sendable, Equatable {
        let rawValue: UInt8
        /// Exactly `<*>`.
        static let wildcard = Flags(rawValue: 1)
        /// Letters only: a value the miner may keep as a constant variant.
        static let word = Flags(rawValue: 2)
        /// Two letters in a row and no parameter: may key the parse tree.
        static let keyword = Flags(rawValue: 4)
    }

    private(set) var arena: [UInt8] = []
    private(set) var offsets: [Int] = [0]
    private(set) var hashes: [UInt64] = []
    private(set) var flags: [Flags] = []
    private var slots: [Int32] = Array(repeating: -1, count: 1024)

    var count: Int { hashes.count }

    /// A 64-bit hash that reads eight bytes at a time (most tokens take one or two loads):
    /// byte-at-a-time FNV was a multiply per byte on every token of every message. Only
    /// equality matters (ids are compared after a byte comparison), but leaf keys are saved in
    /// checkpoints, so changing this function changes `TemplateStore`'s format version.
    @inline(__always)
    static func hash(_ s: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = s.count
        guard let p = s.baseAddress.map(UnsafeRawPointer.init) else { return mix(0x9E37_79B9_7F4A_7C15) }
        var h = UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15
        var i = 0
        while i + 8 <= n {
            h = mix(h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        let rest = n - i
        if rest > 0 {
            // The last 1–7 bytes, little-endian, without reading past the end: from an
            // overlapping load when the token is long enough, else byte by byte.
            var tail: UInt64 = 0
            if n >= 8 {
                tail = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) >> UInt64(8 * (8 - rest))
            } else if rest >= 4 {
                let lo = UInt64(p.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                let hi = UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
                tail = lo | hi << UInt64(8 * (rest - 4))
            } else {
                for k in 0..<rest { tail |= UInt64(p.load(fromByteOffset: i + k, as: UInt8.self)) << UInt64(8 * k) }
            }
            h = mix(h ^ tail ^ 0xFF51_AFD7_ED55_8CCD)
        }
        return h ^ (h >> 32)
    }

    /// One multiply-and-fold round (the 128-bit product's halves, as wyhash does).
    @inline(__always) private static func mix(_ x: UInt64) -> UInt64 {
        let (high, low) = x.multipliedFullWidth(by: 0xBF58_476D_1CE4_E5B9)
        return high ^ low
    }

    static func flags(of s: UnsafeBufferPointer<UInt8>) -> Flags {
        var f: Flags = []
        if s.count == 3 && s.hasWildcard(at: 0) { f.insert(.wildcard) }
        var letters = 0, run = 0, bestRun = 0, wildcard = false
        for (i, c) in s.enumerated() {
            if ByteClass.isLetter(c) { letters += 1; run += 1; bestRun = max(bestRun, run) } else { run = 0 }
            if c == 0x3C && s.hasWildcard(at: i) { wildcard = true }
        }
        if letters == s.count && letters > 0 { f.insert(.word) }
        if bestRun >= 2 && !wildcard { f.insert(.keyword) }
        return f
    }

    func bytes(_ id: Int32) -> ArraySlice<UInt8> { arena[offsets[Int(id)]..<offsets[Int(id) + 1]] }

    func withBytes<R>(_ id: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let lo = offsets[Int(id)], hi = offsets[Int(id) + 1]
        return try arena.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[lo..<hi])) }
    }

    func id(of s: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32? {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slots[i]
            if id < 0 { return nil }
            if hashes[Int(id)] == h && equals(id, s) { return id }
            i = (i + 1) & mask
        }
    }

    private func equals(_ id: Int32, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        let lo = offsets[Int(id)], hi = offsets[Int(id) + 1]
        guard hi - lo == s.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            s.count == 0 || Self.bytesEqual(UnsafeRawPointer(a.baseAddress! + lo), UnsafeRawPointer(s.baseAddress!), s.count)
        }
    }

    /// `memcmp(a, b, n) == 0` for the short strings tokens are, inline: a call to `memcmp`
    /// cost more than comparing one or two words. Never reads outside the `n` bytes.
    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        if n >= 8 {
            var i = 0
            while i + 8 <= n {
                if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i += 8
            }
            return i == n || a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        for k in 0..<n where a.load(fromByteOffset: k, as: UInt8.self) != b.load(fromByteOffset: k, as: UInt8.self) { return false }
        return true
    }

    mutating func intern(_ s: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32 {
        if let id = id(of: s, hash: h) { return id }
        if (hashes.count + 1) * 2 > slots.count { grow() }
        let id = Int32(hashes.count)
        arena.append(contentsOf: s)
        offsets.append(arena.count)
        hashes.append(h)
        flags.append(Self.flags(of: s))
        place(id)
        return id
    }


    private mutating func place(_ id: Int32) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hashes[Int(id)]) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = id
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for id in 0..<hashes.count { place(Int32(id)) }
    }

    /// A table of only the tokens `keep` says are live, and each old id's new id (-1: dropped).
    func compacted(keeping keep: (Int32) -> Bool) -> (TokenTable, [Int32]) {
        var table = TokenTable()
        var remap = [Int32](repeating: -1, count: count)
        for id in 0..<count where keep(Int32(id)) {
            let b = Array(bytes(Int32(id)))
            remap[id] = b.withUnsafeBufferPointer { table.intern($0, hash: hashes[id]) }
        }
        return (table, remap)
    }
}
