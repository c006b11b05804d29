import Foundation

/// Something that happened to a TCP connection on this host, as the kernel saw it.
public struct TCPEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// connect() reached ESTABLISHED; `latencyNanos` is the handshake.
        case connected
        /// connect() ended before ESTABLISHED (refused, timed out, reset).
        case connectFailed = "connect_failed"
        case retransmit
        case resetReceived = "reset_received"
        case resetSent = "reset_sent"
    }

    public var kind: Kind
    /// Nanoseconds since 1970.
    public var timeUnixNanos: Int64
    /// connected / connectFailed: from connect() to the outcome.
    public var latencyNanos: UInt64?
    /// The process that connected (0 when this probe did not see the connection start: the
    /// accepting side, or connections older than the probe).
    public var pid: Int32
    public var command: String
    public var localAddress: String
    public var localPort: UInt16
    public var remoteAddress: String
    public var remotePort: UInt16
    public var hostName: String

    /// OpenTelemetry attributes (semantic conventions) of the connection and its process.
    public var attributes: [(String, String)] {
        var a = [("host.name", hostName), ("network.transport", "tcp"), ("network.local.address", localAddress),
                 ("network.local.port", String(localPort)), ("network.peer.address", remoteAddress), ("network.peer.port", String(remotePort))]
        if pid != 0 { a += [("process.pid", String(pid)), ("process.executable.name", command)] }
        return a
    }
}

extension TCPEvent {
    /// Reads `struct tcp_event` (bpf/tcp_event.h) as the kernel wrote it.
    static func decode(_ p: UnsafeRawPointer, _ size: Int, clock: HostClock) -> TCPEvent? {
        guard size >= 80 else { return nil }
        let kind: Kind
        switch p.loadUnaligned(fromByteOffset: 16, as: UInt32.self) {
        case 1: kind = .connected
        case 2: kind = .connectFailed
        case 3: kind = .retransmit
        case 4: kind = .resetReceived
        case 5: kind = .resetSent
        default: return nil
        }
        let family = Int32(p.loadUnaligned(fromByteOffset: 24, as: UInt16.self))
        let comm = UnsafeRawBufferPointer(start: p + 64, count: 16)
        return TCPEvent(
            kind: kind,
            timeUnixNanos: clock.unixNanos(monotonic: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            latencyNanos: kind == .connected || kind == .connectFailed ? p.loadUnaligned(fromByteOffset: 8, as: UInt64.self) : nil,
            pid: Int32(bitPattern: p.loadUnaligned(fromByteOffset: 20, as: UInt32.self)),
            command: String(decoding: comm[..<(comm.firstIndex(of: 0) ?? 16)], as: UTF8.self),
            localAddress: address(family, p + 32),
            localPort: p.loadUnaligned(fromByteOffset: 26, as: UInt16.self),
            remoteAddress: address(family, p + 48),
            remotePort: p.loadUnaligned(fromByteOffset: 28, as: UInt16.self),
            hostName: HostClock.hostName)
    }

    private static func address(_ family: Int32, _ bytes: UnsafeRawPointer) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, bytes, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
