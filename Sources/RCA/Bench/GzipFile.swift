import CZlib

/// Reads a whole gzip-compressed (or plain) file, as the RCA datasets ship their CSVs.
public enum GzipFile {
    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ path: String) throws -> [UInt8] {
        guard let f = gzopen(path, "rb") else { throw Unreadable(description: "\(path): cannot open") }
        defer { gzclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let message = gzerror(f, &code).map { String(cString: $0) } ?? "error \(code)"
                throw Unreadable(description: "\(path): \(message)")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        return out
    }

    public static func text(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }
}
