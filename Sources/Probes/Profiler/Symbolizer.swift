import Foundation
import Stream

/// Names sampled addresses: kernel ones from /proc/kallsyms, user ones through the process's
/// mappings (/proc/PID/maps, read while the process lives) and the ELF symbols of the mapped
/// files. What cannot be named keeps its address and, where known, its mapping.
final class Symbolizer: @unchecked Sendable {
    // @unchecked: used by the profiler's reader thread only.
    private struct Mapping { var start: UInt64; var end: UInt64; var offset: UInt64; var path: String }
    private var kernel: [(address: UInt64, name: String)]?
    private var files: [String: ELFSymbols?] = [:]

    func kernelFrame(_ address: UInt64) -> CPUProfile.Frame {
        if kernel == nil { kernel = Self.kallsyms() }
        let k = kernel!
        var lo = 0, hi = k.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if k[mid].address <= address { lo = mid + 1 } else { hi = mid }
        }
        return CPUProfile.Frame(address: address, function: lo > 0 ? k[lo - 1].name : nil, mapping: "[kernel]",
                                mappingStart: 0, mappingEnd: 0, mappingOffset: 0, isKernel: true)
    }

    /// User frames of one process, leaf first; `returnAddresses`: every frame but the leaf is
    /// where a call returns to, so the call itself is one byte before.
    func userFrames(pid: Int32, _ addresses: [UInt64]) -> [CPUProfile.Frame] {
        let maps = Self.mappings(pid)
        return addresses.enumerated().map { i, address in
            guard let m = maps.first(where: { address >= $0.start && address < $0.end }) else {
                return CPUProfile.Frame(address: address, function: nil, mapping: nil, mappingStart: 0, mappingEnd: 0, mappingOffset: 0, isKernel: false)
            }
            let lookup = i == 0 ? address : address - 1
            var function: String?
            if m.path.hasPrefix("/"), let symbols = elf(m.path), let vaddr = symbols.virtualAddress(ofFileOffset: lookup - m.start + m.offset) {
                function = symbols.name(atVirtualAddress: vaddr)
            }
            return CPUProfile.Frame(address: address, function: function, mapping: m.path, mappingStart: m.start, mappingEnd: m.end,
                                    mappingOffset: m.offset, isKernel: false)
        }
    }

    private func elf(_ path: String) -> ELFSymbols? {
        if let cached = files[path] { return cached }
        let loaded = ELFSymbols(path: path)
        files[path] = loaded
        return loaded
    }

    private static func mappings(_ pid: Int32) -> [Mapping] {
        guard let text = readProcFile("/proc/\(pid)/maps") else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count >= 5, f[1].contains("x") else { return nil }  // executable mappings only
            let range = f[0].split(separator: "-")
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                  let offset = UInt64(f[2], radix: 16) else { return nil }
            return Mapping(start: start, end: end, offset: offset, path: f.count == 6 ? f[5].trimmingCharacters(in: .whitespaces) : "")
        }
    }

    private static func kallsyms() -> [(UInt64, String)] {
        guard let text = readProcFile("/proc/kallsyms") else { return [] }
        var out: [(UInt64, String)] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 3)
            guard f.count >= 3, let a = UInt64(f[0], radix: 16), a != 0, "tTwW".contains(f[1]) else { continue }
            out.append((a, String(f[2].split(separator: "\t").first ?? f[2])))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}

