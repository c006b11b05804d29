import Foundation
import Stream

/// Turns Nagle's algorithm off on this process's listening TCP sockets on `ports`, so every
/// connection they accept from now on sends small writes at once (Linux: accepted sockets
/// inherit TCP_NODELAY from their listener). Returns how many listeners it set.
///
/// For librdkafka's mock cluster, which listens without TCP_NODELAY and offers no way to set
/// it: a response it writes in two parts waits for the client's delayed ACK, so a producer's
/// flush took about 40 ms where it takes 1–2 ms with the option set (as real brokers set it).
func setNoDelayOnListeners(ports: Set<Int>) -> Int {
    var set = 0
    for fd in ownTCPSockets(localPorts: ports, state: .listen) {
        var on: Int32 = 1
        if setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 { set += 1 }
    }
    return set
}

/// The states of /proc/net/tcp's `st` column that are looked for here.
enum TCPSocketState: Substring {
    case established = "01"
    case listen = "0A"
}

/// This process's descriptors of TCP sockets in `state` whose local port is one of `localPorts`:
/// their inodes from /proc/net/tcp and tcp6, then the descriptors in /proc/self/fd that link to
/// them. Empty where there is no /proc.
func ownTCPSockets(localPorts: Set<Int>, state: TCPSocketState) -> [Int32] {
    var inodes = Set<Substring>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = readProcFile(table) else { continue }
        // Columns: sl local_address rem_address st … inode.
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ")
            guard f.count > 9, f[3] == state.rawValue, let port = f[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                  localPorts.contains(port) else { continue }
            inodes.insert(f[9])
        }
    }
    guard !inodes.isEmpty else { return [] }
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { name in
        guard let fd = Int32(name),
              let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
              link.hasPrefix("socket:["), inodes.contains(link.dropFirst("socket:[".count).dropLast()) else { return nil }
        return fd
    }
}
