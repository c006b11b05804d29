import Foundation

/// A process started (exec) or ended (exit) on this host, as the kernel saw it.
public struct ProcessEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case exec, exit }

    public var kind: Kind
    /// Nanoseconds since 1970.
    public var timeUnixNanos: Int64
    public var pid: Int32
    public var parentPID: Int32
    /// The kernel's short name of the process (its `comm`, at most 15 bytes).
    public var command: String
    /// Exec: the path of the executable.
    public var executable: String?
    /// Exit: the status passed to exit(); 0 when a signal killed it.
    public var exitCode: Int32?
    /// Exit: the signal that ended it, if one did.
    public var signal: Int32?
    /// Exit: how long the process lived.
    public var durationNanos: UInt64?
    /// The cgroup (v2) the process runs in: containers have their own.
    public var cgroupID: UInt64
    public var hostName: String

    public var timeMillis: Int64 { timeUnixNanos / 1_000_000 }

    /// OpenTelemetry resource attributes (semantic conventions) of the process.
    public var resourceAttributes: [(String, String)] {
        var a = [("host.name", hostName), ("process.pid", String(pid)), ("process.parent_pid", String(parentPID)),
                 ("process.executable.name", command), ("process.cgroup.id", String(cgroupID))]
        if let executable { a.append(("process.executable.path", executable)) }
        return a
    }
}

extension ProcessEvent {
    /// Reads `struct process_event` (bpf/process_event.h) as the kernel wrote it.
    static func decode(_ p: UnsafeRawPointer, _ size: Int, clock: HostClock) -> ProcessEvent? {
        guard size >= 316 else { return nil }
        let kind: Kind
        switch p.loadUnaligned(fromByteOffset: 24, as: UInt32.self) {
        case 1: kind = .exec
        case 2: kind = .exit
        default: return nil
        }
        func string(_ offset: Int, _ capacity: Int) -> String {
            let bytes = UnsafeRawBufferPointer(start: p + offset, count: capacity)
            let end = bytes.firstIndex(of: 0) ?? capacity
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        let signal = Int32(bitPattern: p.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
        return ProcessEvent(
            kind: kind,
            timeUnixNanos: clock.unixNanos(monotonic: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            pid: Int32(bitPattern: p.loadUnaligned(fromByteOffset: 28, as: UInt32.self)),
            parentPID: Int32(bitPattern: p.loadUnaligned(fromByteOffset: 32, as: UInt32.self)),
            command: string(44, 16),
            executable: kind == .exec ? string(60, 256) : nil,
            exitCode: kind == .exit ? p.loadUnaligned(fromByteOffset: 36, as: Int32.self) : nil,
            signal: kind == .exit && signal != 0 ? signal : nil,
            durationNanos: kind == .exit ? p.loadUnaligned(fromByteOffset: 8, as: UInt64.self) : nil,
            cgroupID: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
            hostName: HostClock.hostName)
    }
}
