import Foundation

/// The built `vigil` executable and the tools that end-to-end tests run as real processes.
public enum ChildProcesses {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The `vigil` executable, built (by `swift build --build-tests`) beside the test binary.
    public static func vigilExecutable() throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [testBinary.deletingLastPathComponent(), Bundle.main.bundleURL]
            .map { $0.appendingPathComponent("vigil").path }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure("no vigil executable at \(candidates): build it first (swift build)")
        }
        return path
    }

    /// Starts `vigil ARGUMENTS`, its standard error appended to `log`.
    public static func startVigil(_ arguments: [String], log: String, stdout: String? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try vigilExecutable())
        p.arguments = arguments
        // O_APPEND: processes running at the same time must not overwrite each other's lines.
        let fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        p.standardError = fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : FileHandle.nullDevice
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout, contents: nil)
            p.standardOutput = FileHandle(forWritingAtPath: stdout) ?? FileHandle.nullDevice
        } else {
            p.standardOutput = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    /// Runs `vigil ARGUMENTS` to completion: its exit status and standard error.
    public static func runVigil(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let (status, _, errors) = try runVigilCapturingOutput(arguments)
        return (status, errors)
    }

    /// Runs `vigil ARGUMENTS` to completion: its exit status, standard output and standard
    /// error. Standard output goes through a file, so neither pipe can fill up and stall it.
    public static func runVigilCapturingOutput(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try vigilExecutable())
        p.arguments = arguments
        let stderr = Pipe()
        p.standardError = stderr
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-stdout-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let outHandle = FileHandle(forWritingAtPath: outPath)
        p.standardOutput = outHandle ?? FileHandle.nullDevice
        try p.run()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try? outHandle?.close()
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        return (p.terminationStatus, output, errors)
    }

    /// Runs a program found on PATH to completion; its standard output.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [program] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure("\(program) \(arguments.joined(separator: " ")) exited with \(p.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A `vigil broker` with these topics (NAME:PARTITIONS) and other options; its bootstrap servers.
    public static func startBroker(topics: [String], work: String, options: [String] = []) throws -> (Process, String) {
        let file = work + "/bootstrap-\(UUID())"
        let p = try startVigil(["broker"] + topics.flatMap { ["--topic", $0] } + options + ["--bootstrap-file", file], log: work + "/broker.log")
        for _ in 0..<200 {
            if let s = try? String(contentsOfFile: file, encoding: .utf8), !s.isEmpty {
                return (p, s.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.terminate()
        throw Failure("vigil broker did not start (see \(work)/broker.log)")
    }

    /// Records of an exactly-once Kafka sink's topic that belong to committed transactions:
    /// their `vigil.txn` header matches a marker in the markers topic. (librdkafka's mock
    /// cluster shows records of transactions a crash left open even to read_committed
    /// readers; real Kafka would hide them.)
    public static func kcatReadCommittedByMarkers(brokers: String, topic: String,
                                                  markersTopic: String = "vigil_transaction_markers") throws -> [Substring] {
        let markers = try run("kcat", ["-C", "-b", brokers, "-t", markersTopic, "-e", "-q", "-f", "%k %s\n"])
        var committed = Set<Substring>()
        for line in markers.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 3 { committed.insert("\(f[0])/\(f[1])/\(f[2])") }
        }
        let out = try run("kcat", ["-C", "-b", brokers, "-t", topic, "-e", "-q", "-f", "%h\t%s\n"])
        return out.split(separator: "\n").compactMap { line in
            guard let tab = line.firstIndex(of: "\t") else { return nil }
            let header = line[..<tab]
            guard header.hasPrefix("vigil.txn="), committed.contains(header.dropFirst("vigil.txn=".count)) else { return nil }
            return line[line.index(after: tab)...]
        }
    }

    /// Partitions of `topic` whose first offset is not 0: the mock cluster dropped their
    /// oldest records (it keeps at most 5 MB per partition).
    public static func truncatedPartitions(brokers: String, topic: String) throws -> [Int] {
        let out = try run("kcat", ["-C", "-b", brokers, "-t", topic, "-e", "-q", "-f", "%p %o\n"])
        var first: [Int: Int] = [:]
        for line in out.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 2, let p = Int(f[0]), let o = Int(f[1]) else { continue }
            first[p] = min(first[p] ?? .max, o)
        }
        return first.filter { $0.value > 0 }.map(\.key).sorted()
    }

    /// What `killAtRandomMoments` did.
    public struct Kills {
        public var count = 0
        public var delays: [Int] = []
        /// A restarted run ended by itself before it could be killed.
        public var finishedEarly = false
        /// The exit status of a run that ended by itself and failed.
        public var failedStatus: Int32?
    }

    /// Starts a job with `start` and SIGKILLs it after a random delay in `delaysMs`, again and
    /// again, up to `maxKills` times or until a run ends by itself.
    public static func killAtRandomMoments(maxKills: Int, delaysMs: ClosedRange<Int>, start: () throws -> Process) throws -> Kills {
        var rng = SystemRandomNumberGenerator()
        var k = Kills()
        while k.count < maxKills {
            let job = try start()
            let delay = Int.random(in: delaysMs, using: &rng)
            k.delays.append(delay)
            Thread.sleep(forTimeInterval: Double(delay) / 1000)  // a random moment, by design
            if job.isRunning {
                kill(job.processIdentifier, SIGKILL)
                job.waitUntilExit()
                k.count += 1
            } else {
                job.waitUntilExit()
                k.finishedEarly = true
                if job.terminationStatus != 0 { k.failedStatus = job.terminationStatus }
                break
            }
        }
        return k
    }
}
