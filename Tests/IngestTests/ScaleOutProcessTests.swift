import Foundation
import Ingest
import VigilTestSupport
import XCTest

/// `vigil window-count` scaled out over real processes against `vigil broker` over TCP: the
/// input is partitioned by sequence number, the job is keyed by KEY, so every window needs
/// records from every input partition (through the repartition topic). Whatever the number of
/// processes, kills and restarts, the committed output must be exactly the windows computed
/// here from the input.
final class ScaleOutProcessTests: XCTestCase {
    var work: String!
    var processes: [Process] = []
    var brokers = ""
    let inputPartitions: Int32 = 8
    let keys = 40
    let baseTime: Int64 = 1_700_000_000_000

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-scaleout-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let (broker, b) = try ChildProcesses.startBroker(
            topics: ["in:\(inputPartitions)", "out:8", "wc-repartition:6", "wc-changelog:6"], work: work)
        processes.append(broker)
        brokers = b
    }

    override func tearDown() {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: work)
    }

    var log: String { work + "/stderr.log" }
    func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func start(_ name: String, _ extra: [String] = []) throws -> Process {
        let p = try ChildProcesses.startVigil(
            ["window-count", "--brokers", brokers, "--input", "in", "--output", "out", "--group", "wc",
             "--state", work + "/state-" + name, "--repartition-partitions", "6", "--window-ms", "1000",
             "--commit-interval-ms", "300", "--idle-timeout-ms", "60000"] + extra, log: log)
        processes.append(p)
        return p
    }

    func stop(_ p: Process) {
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "a stopped process failed:\n\(logText().suffix(3000))")
    }

    /// Records `range` of the input: "SEQ KEY TIME", partition SEQ mod 8, times rising with
    /// SEQ with up to 500 ms of disorder (the job allows 2 s).
    func produce(_ range: Range<Int>) throws {
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        for seq in range {
            let line = "\(seq) k\(seq % keys) \(time(seq))"
            try producer.produce(topic: "in", partition: Int32(seq) % inputPartitions, key: nil, value: Array(line.utf8))
        }
        try producer.flush()
    }

    func time(_ seq: Int) -> Int64 { baseTime + Int64(seq) * 3 + Int64((seq &* 7919) % 500) }

    /// One record per input partition far in the future: every real window can then fire.
    func produceClosers(after last: Int) throws {
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        for p in 0..<inputPartitions {
            try producer.produce(topic: "in", partition: p, key: nil, value: Array("\(last + Int(p)) closer \(time(last) + 3_600_000)".utf8))
        }
        try producer.flush()
    }

    func expectedWindows(_ range: Range<Int>) -> Set<String> {
        var windows: [String: (count: Int, sum: Int)] = [:]
        for seq in range {
            let t = time(seq)
            let id = "key=k\(seq % keys) window=\(t - t % 1000)"
            windows[id, default: (0, 0)].count += 1
            windows[id, default: (0, 0)].sum += seq
        }
        return Set(windows.map { "\($0.key) count=\($0.value.count) sum=\($0.value.sum)" })
    }

    /// Output lines of committed commits: their `vigil.txn` header names a commit marker of
    /// the changelog (the mock cluster shows records of abandoned transactions too) made by
    /// the partition's owner of the time (its epoch is that of the latest claim before it).
    func committedOutput() throws -> [Substring] {
        let log = try ChildProcesses.run("kcat", ["-C", "-b", brokers, "-t", "wc-changelog", "-e", "-q", "-f", "%p\t%k\t%h\n"])
        var committed = Set<Substring>()
        var owner: [Substring: Substring] = [:]  // partition → epoch of its latest claim
        for line in log.split(separator: "\n") {
            let f = line.split(separator: "\t")
            guard f.count == 3 else { continue }
            let headers = Dictionary(f[2].split(separator: ",").map { h in
                let kv = h.split(separator: "=", maxSplits: 1)
                return (kv[0], kv.count > 1 ? kv[1] : "")
            }, uniquingKeysWith: { $1 })
            if f[1] == "claim" { owner[f[0]] = headers["vigil.epoch"] }
            if f[1] == "commit", let txn = headers["vigil.txn"], headers["vigil.epoch"] == owner[f[0]] { committed.insert(txn) }
        }
        let out = try ChildProcesses.run("kcat", ["-C", "-b", brokers, "-t", "out", "-e", "-q", "-f", "%h\t%s\n"])
        return out.split(separator: "\n").compactMap { line in
            guard let tab = line.firstIndex(of: "\t"), committed.contains(line[..<tab].dropFirst("vigil.txn=".count)) else { return nil }
            return line[line.index(after: tab)...]
        }
    }

    /// Waits until the committed output holds at least `count` lines (or 120 s pass).
    @discardableResult
    func waitForOutput(_ count: Int) throws -> [Substring] {
        let deadline = Date().addingTimeInterval(120)
        var output: [Substring] = []
        while Date() < deadline {
            output = try committedOutput()
            if output.count >= count { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        return output
    }

    /// Waits (up to 60 s) until `p` took a stateful partition.
    func waitUntilTaking(_ p: Process, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(60)
        func took() -> Bool { logText().split(separator: "\n").contains { $0.contains("took wc-repartition") && $0.contains("(pid \(p.processIdentifier))") } }
        while Date() < deadline && !took() { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertTrue(took(), "process \(p.processIdentifier) took no partition", file: file, line: line)
    }

    /// The stateful partitions some process took (from the "took <topic>[N]" log lines).
    func takenPartitions() -> Set<Int> {
        Set(logText().split(separator: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "took wc-repartition[") else { return nil }
            return Int(line[r.upperBound...].prefix { $0 != "]" })
        })
    }

    func checkExactlyTheWindows(of range: Range<Int>, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = expectedWindows(range)
        let output = try committedOutput()
        let counted = Dictionary(output.map { (String($0), 1) }, uniquingKeysWith: +)
        let duplicated = counted.filter { $0.value > 1 }.map(\.key)
        let missing = expected.subtracting(counted.keys)
        let unexpected = Set(counted.keys).subtracting(expected)
        XCTAssertEqual(duplicated.count, 0, "windows output twice, e.g. \(duplicated.prefix(3))", file: file, line: line)
        XCTAssertEqual(missing.count, 0, "windows missing, e.g. \(missing.sorted().prefix(3)):\n\(logText().suffix(2000))", file: file, line: line)
        XCTAssertEqual(unexpected.count, 0, "windows not in the input (wrong counts?), e.g. \(unexpected.sorted().prefix(3))", file: file, line: line)
        XCTAssertEqual(output.count, expected.count, file: file, line: line)
    }

    func testThreeProcessesOutputExactlyTheWindowsOneProcessComputes() throws {
        let total = 24_000
        let one = try start("solo", ["--metrics-port", "0"])
        try produce(0..<total)
        // Bad input goes to the dead-letter topic and stops nothing.
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: brokers))
        try producer.produce(topic: "in", partition: 3, key: nil, value: Array("not a record".utf8))
        try producer.flush()
        try produceClosers(after: total)
        try waitForOutput(expectedWindows(0..<total).count)
        // Its /metrics: every record went through the shuffle and the stateful partitions, and
        // it owns every partition, started empty.
        let port = try XCTUnwrap(logText().range(of: "metrics at http://127.0.0.1:").map { Int(logText()[$0.upperBound...].prefix { $0.isNumber }) } ?? nil, logText())
        let metrics = try PrometheusScrape.parse(try XCTUnwrap(PrometheusScrape.fetch(port: port), "no answer from /metrics"))
        XCTAssertGreaterThanOrEqual(metrics["vigil_scaleout_records_shuffled_total"] ?? 0, Double(total), "\(metrics)")
        XCTAssertGreaterThanOrEqual(metrics["vigil_scaleout_records_applied_total"] ?? 0, Double(total), "\(metrics)")
        XCTAssertEqual(metrics["vigil_scaleout_records_undecodable_total"], 1, "\(metrics)")
        XCTAssertEqual(metrics["vigil_scaleout_partitions_owned"], 6, "\(metrics)")
        XCTAssertEqual(metrics["vigil_scaleout_partitions_restored_total{from=\"empty\"}"], 6, "\(metrics)")
        XCTAssertGreaterThan(metrics["vigil_scaleout_commits_total"] ?? 0, 0, "\(metrics)")
        stop(one)
        try checkExactlyTheWindows(of: 0..<total)
        let deadLetters = try ChildProcesses.run("kcat", ["-C", "-b", brokers, "-t", "vigil_dead_letters", "-e", "-q", "-f", "%s|%h\n"])
        XCTAssertTrue(deadLetters.contains("not a record|"), "the malformed record is a dead letter: \(deadLetters.prefix(500))")
        XCTAssertTrue(deadLetters.contains("vigil.error=line 1: expected \"SEQ KEY TIME_MS\""), "with the reason: \(deadLetters.prefix(500))")
        let soloOutput = Set(try committedOutput().map(String.init))

        // The same input again for a second job (another group, other topics) of three.
        try? FileManager.default.removeItem(atPath: log)
        let (broker, b) = try ChildProcesses.startBroker(topics: ["in:\(inputPartitions)", "out:8", "wc-repartition:6", "wc-changelog:6"], work: work)
        processes.append(broker)
        brokers = b
        let three = try ["a", "b", "c"].map { try start($0) }
        for p in three { waitUntilTaking(p) }
        try produce(0..<total)
        try produceClosers(after: total)
        try waitForOutput(soloOutput.count)
        for p in three { stop(p) }
        try checkExactlyTheWindows(of: 0..<total)
        XCTAssertEqual(Set(try committedOutput().map(String.init)), soloOutput, "three processes output what one did")
        XCTAssertEqual(takenPartitions(), Set(0..<6), "every stateful partition was taken")
    }

    /// A stock broker refuses a session timeout under its minimum (6 s by default) with
    /// INVALID_SESSION_TIMEOUT; the job then asks for the next step. Here the refusal comes from
    /// `vigil broker --fail-requests`, over TCP, to the command a user runs.
    func testARefusedSessionTimeoutIsRenegotiatedAndTheJobRuns() throws {
        let (broker, b) = try ChildProcesses.startBroker(
            topics: ["in:\(inputPartitions)", "out:8", "wc-repartition:6", "wc-changelog:6"], work: work,
            options: ["--fail-requests", "JoinGroup:INVALID_SESSION_TIMEOUT"])
        processes.append(broker)
        brokers = b
        let total = 4_000
        let one = try start("solo")
        try produce(0..<total)
        try produceClosers(after: total)
        try waitForOutput(expectedWindows(0..<total).count)
        stop(one)
        try checkExactlyTheWindows(of: 0..<total)
        XCTAssertTrue(logText().contains("refuses session.timeout.ms=3000; asking for 6000"), logText().suffix(3000).description)
    }

    func testAProcessKilledMidRunAndAnotherStartedLaterLoseAndRepeatNothing() throws {
        let total = 30_000
        let a = try start("a"), b = try start("b"), c = try start("c")
        for p in [a, b, c] { waitUntilTaking(p) }
        try produce(0..<10_000)
        // Some windows are out: every process is at work.
        try waitForOutput(expectedWindows(0..<5_000).count / 2)
        kill(b.processIdentifier, SIGKILL)
        b.waitUntilExit()
        try produce(10_000..<20_000)
        Thread.sleep(forTimeInterval: 2)
        let d = try start("d")  // a new machine: no local state
        try produce(20_000..<total)
        try produceClosers(after: total)
        try waitForOutput(expectedWindows(0..<total).count)
        for p in [a, c, d] { stop(p) }
        try checkExactlyTheWindows(of: 0..<total)
        let text = logText()
        XCTAssertTrue(text.contains("with state from the changelog"), "the killed process's partitions were restored from the changelog")
    }

    func testScalingFromOneToThreeProcessesAndBackToOne() throws {
        let total = 30_000
        let a = try start("a")
        try produce(0..<10_000)
        try waitForOutput(expectedWindows(0..<5_000).count / 2)
        let b = try start("b"), c = try start("c")
        waitUntilTaking(b)
        waitUntilTaking(c)
        try produce(10_000..<20_000)
        try waitForOutput(expectedWindows(0..<15_000).count / 2)
        stop(b)
        stop(c)
        try produce(20_000..<total)
        try produceClosers(after: total)
        try waitForOutput(expectedWindows(0..<total).count)
        stop(a)
        try checkExactlyTheWindows(of: 0..<total)

        // Restarted with its state directory, the process restores every partition from its
        // local checkpoints (the changelog's last commits are theirs) and outputs nothing again.
        let again = try start("a")
        let deadline = Date().addingTimeInterval(60)
        func takenByAgain() -> [Substring] {
            logText().split(separator: "\n").filter { $0.contains("took wc-repartition") && $0.contains("(pid \(again.processIdentifier))") }
        }
        while takenByAgain().count < 6 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertEqual(takenByAgain().count, 6, "the restarted process took every partition")
        XCTAssertTrue(takenByAgain().allSatisfy { $0.contains("from the local checkpoint") }, "\(takenByAgain())")
        Thread.sleep(forTimeInterval: 1)
        stop(again)
        try checkExactlyTheWindows(of: 0..<total)
        let took = logText().split(separator: "\n").filter { $0.contains("took wc-repartition") }
        XCTAssertTrue(took.contains { $0.contains("with state from the changelog") }, "partitions moved between processes with their state: \(took)")
    }
}
