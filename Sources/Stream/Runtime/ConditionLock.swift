#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with two condition variables: the one primitive the inbox needs (a consumer waits
/// for data, producers wait for room). pthread directly: no allocation or actor hop per use.
final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let dataAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let roomAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        for cond in [dataAvailable, roomAvailable] {
            var attr = pthread_condattr_t()
            pthread_condattr_init(&attr)
            #if os(Linux)
            pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
            #endif
            pthread_cond_init(cond, &attr)
            pthread_condattr_destroy(&attr)
        }
    }

    deinit {
        pthread_mutex_destroy(mutex); mutex.deallocate()
        pthread_cond_destroy(dataAvailable); dataAvailable.deallocate()
        pthread_cond_destroy(roomAvailable); roomAvailable.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock(); defer { unlock() }
        return try body()
    }

    func signalData() { pthread_cond_signal(dataAvailable) }
    func broadcastRoom() { pthread_cond_broadcast(roomAvailable) }
    func broadcastAll() { pthread_cond_broadcast(dataAvailable); pthread_cond_broadcast(roomAvailable) }
    func waitForRoom() { pthread_cond_wait(roomAvailable, mutex) }

    /// Waits for data until `deadlineNanos` (monotonic clock); nil waits without limit.
    func waitForData(deadlineNanos: UInt64?) {
        guard let deadline = deadlineNanos else {
            pthread_cond_wait(dataAvailable, mutex)
            return
        }
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        #if os(Linux)
        pthread_cond_timedwait(dataAvailable, mutex, &ts)
        #else
        _ = ts
        pthread_cond_wait(dataAvailable, mutex)
        #endif
    }
}

/// Monotonic nanoseconds, for deadlines and for measuring time blocked.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Wall-clock milliseconds since the epoch: processing time.
@inline(__always)
func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
