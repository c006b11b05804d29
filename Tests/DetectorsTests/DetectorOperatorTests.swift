import Detectors
import Foundation
import Stream
import XCTest

/// The keyed detector operator on the deterministic harness and through checkpoints.
final class DetectorOperatorTests: XCTestCase {
    /// Two series of slow sawtooth values; "b" spikes at point 300.
    func points(count: Int = 400) -> [(MetricPoint, Timestamp)] {
        var out: [(MetricPoint, Timestamp)] = []
        for i in 0..<count {
            let t = Int64(i) * 10_000
            let base = 50 + Double(i % 7)
            out.append((MetricPoint(series: "a", time: t, value: base), t))
            out.append((MetricPoint(series: "b", time: t, value: i == 300 ? base + 80 : base), t))
        }
        return out
    }

    func testOneDetectorPerSeriesAndOnlyAnomaliesAreEmitted() throws {
        let h = StreamTestHarness(of: MetricPoint.self) { $0.detect { MedianMADDetector() } }
        try h.send(points())
        let out = h.takeOutput()
        XCTAssertEqual(out.map(\.series), ["b"], "\(out)")
        let spike = try XCTUnwrap(out.first)
        XCTAssertEqual(spike.time, 300 * 10_000)
        XCTAssertEqual(spike.value, 50 + Double(300 % 7) + 80)
        XCTAssertEqual(spike.detector, "mad")
        XCTAssertTrue(spike.expectedLow < 50 && spike.expectedHigh > 56 && spike.expectedHigh < 130, "\(spike)")
        XCTAssertTrue(spike.explanation.contains("from the moving median"), spike.explanation)
        XCTAssertGreaterThan(spike.score, 0.5)
    }

    func testANonFiniteValueGoesToTheRejectedSideOutputAndTheJobGoesOn() throws {
        let h = StreamTestHarness(of: MetricPoint.self) { $0.detect { MedianMADDetector() } }
        let rejected = h.sideOutput(MetricPoint.rejected)
        var all = points()
        all.insert((MetricPoint(series: "b", time: 2_995_000, value: .nan), 2_995_000), at: 599)
        try h.send(all)
        XCTAssertEqual(rejected.values.map(\.series), ["b"])
        XCTAssertTrue(rejected.values.first?.value.isNaN ?? false)
        XCTAssertEqual(h.takeOutput().map(\.time), [300 * 10_000], "the spike after it is still found")
    }

    func testARestoredJobEmitsExactlyWhatAnUninterruptedOneDoes() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-detect-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        func makeJob(_ directory: String, parallelism: Int) -> (StreamEnvironment, ManualInput<MetricPoint>, CollectedRecords<String>) {
            let env = StreamEnvironment(name: "detect-checkpoints", parallelism: parallelism)
            env.checkpointing = CheckpointConfig(directory: directory, interval: nil)
            let (stream, input) = env.manualSource(MetricPoint.self)
            let out = stream.detect { EnsembleDetector() }.map { "\($0.series) \($0.time) \($0.score)" }.collect()
            return (env, input, out)
        }
        // Long enough for the ensemble's warm-ups (600 points), with a spike after them.
        var all: [(MetricPoint, Timestamp)] = []
        for i in 0..<1500 {
            let t = Int64(i) * 10_000
            for (k, series) in ["a", "b", "c"].enumerated() {
                let v = 100 + 10 * sin(Double(i + k * 5) / 7.6) + Double((i * 37 + k * 11) % 13) / 6
                all.append((MetricPoint(series: series, time: t, value: i == 1300 && series == "c" ? v + 60 : v), t))
            }
        }
        let (refEnv, refInput, refOut) = makeJob(base + "/reference", parallelism: 1)
        let refRun = try refEnv.embedded()
        for (p, t) in all { refInput.send(p, at: t) }
        refInput.end()
        try refRun.runUntilIdle()
        let expected = refOut.values.sorted()
        XCTAssertTrue(expected.contains { $0.hasPrefix("c 13000000 ") }, "the spike is found: \(expected)")

        let cut = 900 * 3
        let (env1, input1, out1) = makeJob(base + "/job", parallelism: 2)
        let run1 = try env1.embedded()
        for (p, t) in all[..<cut] { input1.send(p, at: t) }
        try run1.runUntilIdle()
        try run1.triggerCheckpoint()
        let beforeCheckpoint = out1.values
        for (p, t) in all[cut..<(cut + 600)] { input1.send(p, at: t) }  // processed, then lost in a "crash"
        try run1.runUntilIdle()

        let (env2, input2, out2) = makeJob(base + "/job", parallelism: 2)
        let run2 = try env2.embedded()
        for (p, t) in all[cut...] { input2.send(p, at: t) }
        input2.end()
        try run2.runUntilIdle()
        XCTAssertEqual((beforeCheckpoint + out2.values).sorted(), expected)
    }
}
