import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe file writes: temp name, write, fsync, rename, fsync the directory — so a file
/// under its final name is always whole, and survives power loss once the call returns.
public enum DurableFiles {
    public struct IOError: Error, CustomStringConvertible {
        public var description: String
        public init(_ what: String, _ path: String) {
            description = "\(what) '\(path)': \(String(cString: strerror(errno)))"
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw IOError("cannot create", temp) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 { if errno == EINTR { continue }; close(fd); throw IOError("cannot write", temp) }
            written += n
        }
        guard fsync(fd) == 0 else { close(fd); throw IOError("cannot fsync", temp) }
        close(fd)
        guard rename(temp, path) == 0 else { throw IOError("cannot rename to", path) }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    public static func syncDirectory(_ path: String) throws {
        let fd = open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError("cannot open directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IOError("cannot fsync directory", path) }
    }

    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IOError("cannot read", path)
        }
        return [UInt8](data)
    }

    public static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
}
