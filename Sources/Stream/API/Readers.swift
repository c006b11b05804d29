#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Subtask `s` of `p` reads blocks s, s+p, s+2p, … of `blockLength` consecutive elements:
/// every split advances through the data at the same pace, so event time stays aligned
/// across splits, and each reads only its own memory (with elements dealt one by one, every
/// split would pull every cache line of the collection through its core).
public struct CollectionReader<T: Sendable>: SourceReader {
    public static var readsWithoutWaiting: Bool { true }
    /// A source batch's worth: each read is one run through contiguous memory. (Blocks of 1
    /// or 64 elements cost the runtime benchmark's sources ~2 ns per record more: the
    /// prefetcher kept restarting.) At parallelism p, the splits of time-ordered data are
    /// about p blocks apart in event time.
    static var blockLength: Int { 1024 }
    /// `blockLength`, stored: the read loop ran ~2 ns per record slower reading the static.
    let blockLength = Self.blockLength
    let elements: [T]
    /// The next element to read, and the end of the block it is in.
    var next: Int
    var blockEnd: Int
    /// From the end of one of this split's blocks to the start of its next one.
    let skip: Int
    let subtask: Int, parallelism: Int

    public init(elements: [T], subtask: Int, parallelism: Int) {
        self.elements = elements
        self.subtask = subtask
        self.parallelism = parallelism
        self.next = min(elements.count, subtask * blockLength)
        self.blockEnd = min(elements.count, next + blockLength)
        self.skip = (parallelism - 1) * blockLength
    }

    public mutating func read(into context: SourceContext<T>, limit: Int) throws -> SourceReadResult {
        var remaining = limit
        let count = elements.count
        try elements.withUnsafeBufferPointer { all in
            while remaining > 0 && next < count {
                let stop = min(blockEnd, next + remaining)
                remaining -= stop - next
                try context.emit(contentsOf: UnsafeBufferPointer(rebasing: all[next..<stop]))
                next = stop
                if next == blockEnd {
                    next = min(count, next + skip)
                    blockEnd = min(count, next + blockLength)
                }
            }
        }
        return next < count ? .more : .finished
    }
}

/// Records produced by a function of their sequence number, split like a collection.
public struct GeneratorReader<T: Sendable>: SourceReader {
    public static var readsWithoutWaiting: Bool { true }
    let count: Int
    let generate: @Sendable (Int) -> T
    var next: Int
    let stride: Int

    public init(count: Int, subtask: Int, parallelism: Int, generate: @escaping @Sendable (Int) -> T) {
        self.count = count
        self.generate = generate
        self.next = subtask
        self.stride = parallelism
    }

    public mutating func read(into context: SourceContext<T>, limit: Int) throws -> SourceReadResult {
        let end = min(count, next + limit * stride)
        let generate = self.generate
        try context.withEmitter { emit in
            while next < end {
                try emit(generate(next))
                next += stride
            }
        }
        return next < count ? .more : .finished
    }
}

/// A file's lines. With parallelism p the file is cut into p byte ranges; a line belongs to
/// the range its first byte is in (so each line is read exactly once).
public struct LinesFileReader: SourceReader {
    public static var readsWithoutWaiting: Bool { true }
    public struct OpenError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot read '\(path)': \(reason)" }
    }

    let path: String
    /// -1 once closed: closed exactly once (a second close could close a descriptor that
    /// another thread has since opened under the same number).
    var fd: Int32
    let rangeEnd: Int
    /// File offset of `buffer[bufferStart]`.
    var bufferOffset: Int
    var buffer: [UInt8] = []
    var bufferStart = 0
    var eof = false
    var done = false

    public init(path: String, subtask: Int, parallelism: Int) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpenError(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        fstat(fd, &st)
        let size = Int(st.st_size)
        let start = size * subtask / parallelism
        rangeEnd = size * (subtask + 1) / parallelism
        // Start one byte early: if that byte ends a line, `start` begins one of ours.
        bufferOffset = max(0, start - 1)
        lseek(fd, off_t(bufferOffset), SEEK_SET)
        if start > 0 {
            // Skip the tail of the line that began in the previous range.
            while true {
                guard let nl = try nextLineEnd() else { done = true; break }
                let lineStartOffset = bufferOffset + bufferStart
                bufferStart = nl + 1
                if lineStartOffset >= start - 1 { break }
            }
        }
    }

    /// Index in `buffer` of the next '\n' at or after `bufferStart`, refilling as needed;
    /// at end of file a last line without '\n' ends at `buffer.count`.
    private mutating func nextLineEnd() throws -> Int? {
        var scanFrom = bufferStart
        while true {
            if let i = buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) { return i }
            if eof { return bufferStart < buffer.count ? buffer.count : nil }
            scanFrom = buffer.count - bufferStart
            try refill()
        }
    }

    private mutating func refill() throws {
        if bufferStart > 0 {
            buffer.removeFirst(bufferStart)
            bufferOffset += bufferStart
            bufferStart = 0
        }
        let chunk = 1 << 16
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + old, chunk) }
        guard n >= 0 else { throw OpenError(path: path, reason: String(cString: strerror(errno))) }
        buffer.removeLast(chunk - n)
        if n == 0 { eof = true }
    }

    public mutating func read(into context: SourceContext<String>, limit: Int) throws -> SourceReadResult {
        var n = 0
        while !done && n < limit {
            let lineStartOffset = bufferOffset + bufferStart
            guard lineStartOffset < rangeEnd, let end = try nextLineEnd() else { done = true; break }
            var lineEnd = end
            if lineEnd > bufferStart && buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            let line = String(decoding: buffer[bufferStart..<lineEnd], as: UTF8.self)
            bufferStart = min(end + 1, buffer.count)
            try context.emit(line)
            n += 1
        }
        if done { closeFile() }
        return done ? .finished : .more
    }

    private mutating func closeFile() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}

// MARK: positions for checkpoints

extension CollectionReader: CheckpointableReader {
    /// The next element's index and the block length: a position means nothing under another
    /// way of dealing the elements (before 2026-12-05 they were dealt one by one, and only the
    /// index was written).
    public func snapshotPosition(into w: inout StateWriter) {
        w.writeVarint(next)
        w.writeVarint(blockLength)
    }

    /// `next` is always inside one of this split's blocks (or at the end): the block follows.
    public mutating func restorePosition(from r: inout StateReader) throws {
        let position = try r.readVarint()
        guard !r.isAtEnd, try r.readVarint() == blockLength else {
            throw RestoreError("collection source split \(subtask + 1)/\(parallelism): the checkpointed position \(position) was written for another way of splitting the collection (elements dealt one by one, or blocks of another length); it cannot be resumed exactly — start without this checkpoint")
        }
        guard position == elements.count || (position < elements.count && (position / blockLength) % parallelism == subtask) else {
            throw RestoreError("collection source split \(subtask + 1)/\(parallelism): the checkpointed position \(position) is not in one of this split's blocks (the collection changed, or the checkpoint is another job's)")
        }
        next = position
        blockEnd = min(elements.count, next - next % blockLength + blockLength)
    }
}

extension GeneratorReader: CheckpointableReader {
    public func snapshotPosition(into w: inout StateWriter) { w.writeVarint(next) }
    public mutating func restorePosition(from r: inout StateReader) throws { next = try r.readVarint() }
}

extension LinesFileReader: CheckpointableReader {
    /// The file offset of the next line to read, and whether the split is done.
    public func snapshotPosition(into w: inout StateWriter) {
        w.writeVarint(bufferOffset + bufferStart)
        done.encode(to: &w)
    }

    public mutating func restorePosition(from r: inout StateReader) throws {
        let offset = try r.readVarint()
        let wasDone = try Bool.decode(from: &r)
        if wasDone {
            closeFile()
            done = true
            return
        }
        guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else {
            throw OpenError(path: path, reason: "cannot seek to the checkpointed offset \(offset)")
        }
        bufferOffset = offset
        buffer.removeAll(keepingCapacity: true)
        bufferStart = 0
        eof = false
        done = false
    }
}
