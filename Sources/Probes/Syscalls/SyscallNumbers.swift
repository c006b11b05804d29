/// Syscall numbers by name for the architectures Vigil runs on: the calls worth watching for
/// latency (I/O, network, waiting, memory). Any other is given by number (`nr:N`).
enum SyscallNumbers {
    static var table: [String: UInt32] {
        #if arch(x86_64)
        return ["read": 0, "write": 1, "close": 3, "poll": 7, "mmap": 9, "munmap": 11, "pread64": 17, "pwrite64": 18, "readv": 19,
                "writev": 20, "select": 23, "nanosleep": 35, "connect": 42, "accept": 43, "sendto": 44, "recvfrom": 45, "sendmsg": 46,
                "recvmsg": 47, "fsync": 74, "fdatasync": 75, "futex": 202, "getdents64": 217, "clock_nanosleep": 230,
                "epoll_wait": 232, "openat": 257, "newfstatat": 262, "pselect6": 270, "ppoll": 271, "epoll_pwait": 281,
                "accept4": 288, "statx": 332, "io_uring_enter": 426]
        #elseif arch(arm64)
        return ["read": 63, "write": 64, "close": 57, "mmap": 222, "munmap": 215, "pread64": 67, "pwrite64": 68, "readv": 65,
                "writev": 66, "nanosleep": 101, "connect": 203, "accept": 202, "sendto": 206, "recvfrom": 207, "sendmsg": 211,
                "recvmsg": 212, "fsync": 82, "fdatasync": 83, "futex": 98, "getdents64": 61, "clock_nanosleep": 115,
                "openat": 56, "newfstatat": 79, "pselect6": 72, "ppoll": 73, "epoll_pwait": 22, "accept4": 242, "statx": 291,
                "io_uring_enter": 426]
        #else
        return [:]
        #endif
    }

    /// The number of `name` (a name of the table, or `nr:N`).
    static func number(_ name: String) throws -> UInt32 {
        if name.hasPrefix("nr:"), let n = UInt32(name.dropFirst(3)), n < 512 { return n }
        guard let n = table[name] else {
            throw ProbeError("unknown syscall '\(name)': give one of \(table.keys.sorted().joined(separator: ", ")), or nr:N")
        }
        return n
    }
}
