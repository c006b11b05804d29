import Foundation
import Stream

/// What loading BPF programs needs, checked before trying, so that the error names what is
/// missing rather than the kernel's EPERM.
enum BPFPermissions {
    static func check() throws {
        guard FileManager.default.isReadableFile(atPath: "/sys/kernel/btf/vmlinux") else {
            throw ProbeError("eBPF probes need the kernel's BTF type information, and /sys/kernel/btf/vmlinux is missing (a kernel built with CONFIG_DEBUG_INFO_BTF=y)")
        }
        guard geteuid() != 0 else { return }
        let caps = effectiveCapabilities()
        let sysAdmin = caps & (1 << 21) != 0, perfmon = caps & (1 << 38) != 0, bpf = caps & (1 << 39) != 0
        guard sysAdmin || (bpf && perfmon) else {
            let missing = [bpf ? nil : "CAP_BPF", perfmon ? nil : "CAP_PERFMON"].compactMap { $0 }.joined(separator: " and ")
            throw ProbeError("eBPF probes need root or \(missing) (uid \(geteuid()) has neither): run as root, or grant them: setcap cap_bpf,cap_perfmon+ep \(CommandLine.arguments[0])")
        }
    }

    /// CapEff of this process (/proc/self/status).
    static func effectiveCapabilities() -> UInt64 {
        guard let status = readProcFile("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }) else { return 0 }
        return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
    }
}

/// Where the compiled BPF objects are: `$VIGIL_BPF_DIR`, else a `.build-bpf` directory beside
/// or above the executable or the working directory (scripts/build-bpf writes the repository's).
enum BPFObjectFiles {
    static func locate(_ name: String) throws -> String {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["VIGIL_BPF_DIR"] { candidates.append(dir) }
        for start in [URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
                      URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start
            for _ in 0..<6 {
                candidates.append(dir.appendingPathComponent(".build-bpf").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        for dir in candidates where FileManager.default.fileExists(atPath: dir + "/" + name) { return dir + "/" + name }
        throw ProbeError("the eBPF probe \(name) is not built: run scripts/build-bpf (needs clang and bpftool), or point VIGIL_BPF_DIR at its directory")
    }
}
