import CBPF
import Foundation

/// A BPF ring buffer map read from user space: each record the kernel submitted is decoded by
/// `decode` into `pending`, in submission order, during `poll`.
final class RingBuffer<Event>: @unchecked Sendable {
    // @unchecked: polled and drained by the source task's thread only.
    private var ring: OpaquePointer!
    /// What the C callback reaches (a C function pointer cannot capture the generic type).
    private let sink: RingBufferSink
    private let decode: (UnsafeRawPointer, Int) -> Event?
    var pending: [Event] = []
    /// Records too short to decode (a kernel/user-space mismatch): counted, not guessed at.
    private(set) var malformed = 0

    init(mapFD: Int32, decode: @escaping (UnsafeRawPointer, Int) -> Event?) throws {
        self.decode = decode
        sink = RingBufferSink()
        sink.receive = { [unowned self] data, size in self.receive(data, size) }
        guard let ring = ring_buffer__new(mapFD, { context, data, size in
            guard let context, let data else { return 0 }
            Unmanaged<RingBufferSink>.fromOpaque(context).takeUnretainedValue().receive(UnsafeRawPointer(data), size)
            return 0
        }, Unmanaged.passUnretained(sink).toOpaque(), nil) else {
            throw ProbeError("cannot open the ring buffer: \(String(cString: strerror(errno)))")
        }
        self.ring = ring
    }

    deinit { ring_buffer__free(ring) }

    private func receive(_ data: UnsafeRawPointer, _ size: Int) {
        if let e = decode(data, size) { pending.append(e) } else { malformed += 1 }
    }

    /// Waits up to `timeoutMs` for records; returns how many were read.
    @discardableResult
    func poll(timeoutMs: Int32) throws -> Int {
        let n = ring_buffer__poll(ring, timeoutMs)
        if n < 0 && n != -EINTR { throw ProbeError("reading the ring buffer: \(String(cString: strerror(-n)))") }
        return Int(max(0, n))
    }

    func take(upTo limit: Int) -> ArraySlice<Event> {
        let n = min(limit, pending.count)
        defer { pending.removeFirst(n) }
        return pending[..<n]
    }
}

/// The callback target of a ring buffer, not generic.
final class RingBufferSink {
    var receive: (UnsafeRawPointer, Int) -> Void = { _, _ in }
}
