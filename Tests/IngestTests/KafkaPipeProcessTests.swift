import Foundation
import Ingest
import VigilTestSupport
import XCTest

/// `vigil kafka-pipe` as real processes against `vigil broker` over TCP: consume "SEQ KEY"
/// records, keep a running count per key in checkpointed state, produce "key=K seq=S
/// count=C". Output is read back with kcat, a client no one here wrote.
final class KafkaPipeProcessTests: XCTestCase {
    var work: String!
    var processes: [Process] = []

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-kafka-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: work)
    }

    var log: String { work + "/stderr.log" }

    func startBroker() throws -> String {
        // The mock cluster keeps at most 5 MB per partition (older records are dropped), and
        // shows records of transactions a kill left open: spread the output thin.
        let (broker, brokers) = try ChildProcesses.startBroker(topics: ["in:8", "out:64"], work: work)
        processes.append(broker)
        return brokers
    }

    /// `count` records "SEQ KEY", keyed by KEY (so each key's records keep their order).
    func produceInput(brokers: String, count: Int, from first: Int = 0, keys: Int = 101) throws {
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        for seq in first..<first + count {
            let key = "k\(seq % keys)"
            try producer.produce(topic: "in", key: Array(key.utf8), value: Array("\(seq) \(key)".utf8))
        }
        try producer.flush()
    }

    func pipeArguments(brokers: String, state: String, instance: String = "0", parallelism: Int = 2, stopAtEnd: Bool) -> [String] {
        ["kafka-pipe", "--brokers", brokers, "--input", "in", "--output", "out", "--state", state,
         "--instance", instance, "--parallelism", String(parallelism), "--interval-ms", "300",
         // A killed member leaves the group when its session times out: keep that short.
         "--consumer-property", "session.timeout.ms=3000", "--consumer-property", "heartbeat.interval.ms=300"]
            + (stopAtEnd ? ["--stop-at-end"] : [])
    }

    func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Output lines by seq; each key's counts must run 1, 2, 3… in seq order (the keyed state
    /// neither lost nor double-counted a record).
    func checkOutput(_ lines: [Substring], expectedSeqs: Range<Int>, checkCounts: Bool = true,
                     file: StaticString = #filePath, line: UInt = #line)
        -> (missing: [Int], duplicated: [Int]) {
        var bySeq: [Int: [Substring]] = [:]
        var byKey: [Substring: [(seq: Int, count: Int)]] = [:]
        for l in lines {
            let f = l.split(separator: " ")
            guard f.count == 3, let seq = Int(f[1].dropFirst(4)), let count = Int(f[2].dropFirst(6)) else {
                XCTFail("unexpected output line \(l)", file: file, line: line)
                continue
            }
            bySeq[seq, default: []].append(l)
            byKey[f[0], default: []].append((seq, count))
        }
        let missing = expectedSeqs.filter { bySeq[$0] == nil }
        let duplicated = bySeq.filter { $0.value.count > 1 }.map(\.key).sorted()
        if duplicated.isEmpty && checkCounts {
            for (key, entries) in byKey {
                let counts = entries.sorted { $0.seq < $1.seq }.map(\.count)
                if counts != Array(1...counts.count) {
                    XCTFail("running counts of \(key) are not 1...\(counts.count) in seq order: \(counts.prefix(20))", file: file, line: line)
                    break
                }
            }
        }
        return (missing, duplicated)
    }

    func testKilledTenTimesTheTransactionalOutputHoldsEveryRecordExactlyOnce() throws {
        let brokers = try startBroker()
        let total = 400_000
        try produceInput(brokers: brokers, count: total)
        let arguments = pipeArguments(brokers: brokers, state: work + "/state", stopAtEnd: true)

        var kills = 0
        var delays: [Int] = []
        var runs = 0
        while kills < 10 && runs < 30 {
            runs += 1
            let assignedBefore = logText().components(separatedBy: "assigned").count
            let job = try ChildProcesses.startVigil(arguments, log: log)
            processes.append(job)
            // Kill at a random moment after the job got its partitions (before that it only
            // waits for the group, which is not the moment this test is about).
            let deadline = Date().addingTimeInterval(30)
            while job.isRunning && logText().components(separatedBy: "assigned").count == assignedBefore && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            // Short enough that ten kills come before the job is done even on a quiet machine
            // (up to 300 ms let it finish after eight, once: 400,000 records go fast).
            let delay = Int.random(in: 20...150)
            delays.append(delay)
            Thread.sleep(forTimeInterval: Double(delay) / 1000)
            guard job.isRunning else {
                job.waitUntilExit()
                XCTAssertEqual(job.terminationStatus, 0, "a run failed:\n\(logText().suffix(3000))")
                break
            }
            kill(job.processIdentifier, SIGKILL)
            job.waitUntilExit()
            kills += 1
        }
        let last = try ChildProcesses.startVigil(arguments, log: log)
        processes.append(last)
        last.waitUntilExit()
        XCTAssertEqual(last.terminationStatus, 0, "the final run failed:\n\(logText().suffix(3000))")
        XCTAssertGreaterThanOrEqual(kills, 10, "the job finished before 10 kills (delays, ms: \(delays))")
        XCTAssertTrue(logText().contains("restored state"), "restarts restored from checkpoints")

        XCTAssertEqual(try ChildProcesses.truncatedPartitions(brokers: brokers, topic: "out"), [],
                       "the mock cluster dropped old output (5 MB per partition): the test's output must fit")
        let output = try ChildProcesses.kcatReadCommittedByMarkers(brokers: brokers, topic: "out")
        let (missing, duplicated) = checkOutput(output, expectedSeqs: 0..<total)
        XCTAssertEqual(output.count, total, "after \(kills) kills (delays, ms: \(delays))")
        XCTAssertEqual(missing.count, 0, "missing seqs, e.g. \(missing.prefix(5))")
        XCTAssertEqual(duplicated.count, 0, "duplicated seqs, e.g. \(duplicated.prefix(5))")
        let staged = (try? FileManager.default.contentsOfDirectory(atPath: work + "/state/kafka-staging")) ?? []
        XCTAssertEqual(staged, [], "no staged output is left once everything is committed")
    }

    func testTwoProcessesSplitThePartitionsAndTheSurvivorTakesOverWithNoRecordLost() throws {
        let brokers = try startBroker()
        let total = 40_000
        try produceInput(brokers: brokers, count: total / 2)
        let a = try ChildProcesses.startVigil(pipeArguments(brokers: brokers, state: work + "/a", instance: "a", parallelism: 1, stopAtEnd: false), log: log)
        let b = try ChildProcesses.startVigil(pipeArguments(brokers: brokers, state: work + "/b", instance: "b", parallelism: 1, stopAtEnd: false), log: log)
        processes += [a, b]

        // Both members hold partitions: two "assigned" lines for two of the four each, after
        // the first member's initial grab of all four was rebalanced.
        let deadline = Date().addingTimeInterval(60)
        var outputSoFar: [Substring] = []
        while Date() < deadline {
            outputSoFar = try ChildProcesses.kcatReadCommittedByMarkers(brokers: brokers, topic: "out")
            if outputSoFar.count >= total / 2 { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertEqual(outputSoFar.count, total / 2, "the two members together processed the first half:\n\(logText().suffix(2000))")
        let assignments = logText().split(separator: "\n").filter { $0.contains("assigned") }
        XCTAssertGreaterThanOrEqual(assignments.count, 2, "both members were assigned partitions: \(assignments)")

        // Stop one member; the second half must all arrive through the survivor.
        kill(b.processIdentifier, SIGKILL)
        b.waitUntilExit()
        try produceInput(brokers: brokers, count: total / 2, from: total / 2)
        var output: [Substring] = []
        let end = Date().addingTimeInterval(90)
        while Date() < end {
            output = try ChildProcesses.kcatReadCommittedByMarkers(brokers: brokers, topic: "out")
            if Set(output.map { $0.split(separator: " ")[1] }).count >= total { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertTrue(a.isRunning, "the survivor is still running")
        // Keyed state does not move between processes yet (the scale-out issue), so the
        // survivor's counts for the keys it took over start again: only records are checked.
        let (missing, duplicated) = checkOutput(output, expectedSeqs: 0..<total, checkCounts: false)
        XCTAssertEqual(missing.count, 0, "records lost in the handover, e.g. \(missing.prefix(5)):\n\(logText().suffix(2000))")
        // Across processes a handover is at least once: the killed member's records after its
        // last committed offsets are read again by the survivor (see the ingest notes).
        if !duplicated.isEmpty { print("handover duplicates across processes: \(duplicated.count)") }
    }
}
