/// A growable array of plain values (no references: nothing is deinitialised) that one owner reuses for every message: no copy-on-write
/// and no uniqueness check per append, which `Array` pays on each of the miner's many small
/// appends. The owner frees it (`deallocate`) in its deinit.
struct ScratchBuffer<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    /// Room for `n` more elements.
    @inline(__always) mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(to: count + n) }
    }

    private mutating func grow(to n: Int) {
        var c = capacity
        while c < n { c *= 2 }
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: c)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = c
    }

    @inline(__always) mutating func append(_ x: Element) {
        if count == capacity { grow(to: count + 1) }
        base[count] = x
        count += 1
    }

    @inline(__always) mutating func append(_ p: UnsafePointer<Element>, count n: Int) {
        reserve(n)
        (base + count).update(from: p, count: n)
        count += n
    }

    @inline(__always) mutating func append(_ b: UnsafeBufferPointer<Element>) {
        if let p = b.baseAddress { append(p, count: b.count) }
    }

    @inline(__always) subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    var last: Element? { count > 0 ? base[count - 1] : nil }
    var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    func slice(_ r: Range<Int>) -> UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base + r.lowerBound, count: r.count) }
}
