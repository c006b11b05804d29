import CZstd

/// zstd through libzstd: the compression of checkpoint blocks. Contexts are made once per
/// file and reused for every block: `ZSTD_compress` makes and frees one per call, which
/// cost as much as the compression itself on blocks of tens of kilobytes.
enum Zstd {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func check(_ code: Int, _ what: String) throws -> Int {
        if ZSTD_isError(code) != 0 { throw Failure(description: "zstd \(what): \(String(cString: ZSTD_getErrorName(code)))") }
        return code
    }

    final class Compressor {
        private let context: OpaquePointer
        let level: Int32
        init(level: Int32 = -1) throws {
            guard let c = ZSTD_createCCtx() else { throw Failure(description: "zstd: cannot create a compression context") }
            context = c
            self.level = level
        }
        deinit { ZSTD_freeCCtx(context) }

        /// Compresses `input` as one frame appended to `output`.
        func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws {
            let bound = ZSTD_compressBound(input.count)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: bound))
            let n = try output.withUnsafeMutableBytes { dst in
                try check(ZSTD_compressCCtx(context, dst.baseAddress! + start, bound, input.baseAddress, input.count, level), "compression")
            }
            output.removeLast(bound - n)
        }
    }

    final class Decompressor {
        private let context: OpaquePointer
        init() throws {
            guard let d = ZSTD_createDCtx() else { throw Failure(description: "zstd: cannot create a decompression context") }
            context = d
        }
        deinit { ZSTD_freeDCtx(context) }

        /// Decompresses a block whose decompressed size is known (it is recorded in the index).
        func decompress(_ input: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: size)
            let n = try out.withUnsafeMutableBytes { dst in
                try input.withUnsafeBytes { src in
                    try check(ZSTD_decompressDCtx(context, dst.baseAddress, size, src.baseAddress, src.count), "decompression")
                }
            }
            guard n == size else { throw Failure(description: "zstd: block decompressed to \(n) bytes, index says \(size)") }
            return out
        }
    }
}
