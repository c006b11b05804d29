import Detectors
@testable import Probes
import Stream
import XCTest

/// The hotspot-shift operator on the deterministic harness: profiles in, shifts out, and the
/// detector is keyed state (one per host).
final class HotspotShiftsTests: XCTestCase {
    func profile(_ window: Int64, _ counts: [String: Int]) -> CPUProfile {
        let samples = counts.map { name, n in
            CPUProfile.Sample(pid: 1, command: "app", frames: [CPUProfile.Frame(address: 0x1000, function: name, mapping: "/app", mappingStart: 0,
                                                                                mappingEnd: 0, mappingOffset: 0, isKernel: false)], count: n)
        }
        return CPUProfile(startUnixNanos: window * 10_000_000_000, endUnixNanos: (window + 1) * 10_000_000_000, frequency: 99, samples: samples, lostSamples: 0)
    }

    func testAFunctionTakingOverTheCPUIsReported() throws {
        let h = StreamTestHarness(of: CPUProfile.self) { $0.hotspotShifts().map { $0.description } }
        for w in Int64(0)..<6 { try h.send(profile(w, ["serve": 800, "json": 200]), at: (w + 1) * 10_000) }
        try h.send(profile(6, ["serve": 300, "json": 200, "regex": 500]), at: 70_000)
        try h.end()
        let out = h.output
        XCTAssertEqual(out.count, 2, "\(out)")
        XCTAssertTrue(out.contains { $0.hasPrefix("regex: 50.0% of samples (baseline 0.0%, up") }, "\(out)")
        XCTAssertTrue(out.contains { $0.hasPrefix("serve: 30.0% of samples (baseline 80.0%, down") }, "\(out)")
    }
}
