import CZstd

/// zstd through libzstd: the compression of checkpoint blocks.
enum Zstd {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func compress(_ input: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in ZSTD_compress(dst.baseAddress, bound, src.baseAddress, src.count, level) }
        }
        if ZSTD_isError(n) != 0 { throw Failure(description: "zstd compression failed: \(String(cString: ZSTD_getErrorName(n)))") }
        out.removeLast(bound - n)
        return out
    }

    /// Decompresses a block whose decompressed size is known (it is recorded in the index).
    static func decompress(_ input: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        let n = out.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in ZSTD_decompress(dst.baseAddress, size, src.baseAddress, src.count) }
        }
        if ZSTD_isError(n) != 0 { throw Failure(description: "zstd: \(String(cString: ZSTD_getErrorName(n)))") }
        guard n == size else { throw Failure(description: "zstd: block decompressed to \(n) bytes, index says \(size)") }
        return out
    }
}
