import Foundation
import Probes
import XCTest

/// Syscall latency histograms for real: five 20 ms sleeps land in the bucket of 16–33 ms of
/// the sleep syscalls; an unknown syscall name is refused with the ones it knows.
final class SyscallLatencyTests: XCTestCase {
    func testFiveTwentyMillisecondSleepsLandInTheirBucket() throws {
        let latency = try SyscallLatency(syscalls: ["nanosleep", "clock_nanosleep", "read"])
        _ = try latency.collect()
        for _ in 0..<5 { usleep(20_000) }
        let histograms = try latency.collect()
        let sleeps = histograms.filter { $0.syscall.hasSuffix("nanosleep") }
        XCTAssertFalse(sleeps.isEmpty, "\(histograms.map(\.syscall))")
        // 2^24 ns = 16.8 ms, 2^25 = 33.6 ms: a 20 ms sleep (and its wake-up) is in bucket 24.
        let inBucket = sleeps.reduce(0) { $0 + $1.counts[24] }
        XCTAssertGreaterThanOrEqual(inBucket, 5, "\(sleeps.map { "\($0.syscall): \($0.counts)" })")
        let mine = try XCTUnwrap(sleeps.max { $0.counts[24] < $1.counts[24] })
        XCTAssertEqual(mine.quantileUpperBound(0.5) <= 1 << 25, true)
        XCTAssertThrowsError(try SyscallLatency(syscalls: ["no_such_call"])) { error in
            XCTAssertTrue("\(error)".contains("unknown syscall 'no_such_call': give one of"), "\(error)")
        }
    }
}
