import ArgumentParser
import Foundation
import Logging
import Stream

/// A job to watch exactly-once at work, and the one the crash test kills: numbered records
/// from a file, a running count and sum per key (keyed state) and per-key tumbling windows,
/// written by the two-phase-commit file sink, checkpointed to a state directory. Kill it
/// with SIGKILL and start it again, as often as you like: the committed output ends up
/// identical to that of a run that was never interrupted.
struct ExactlyOnceDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exactly-once-demo",
        abstract: "Counts numbered records per key through checkpoints and the exactly-once file sink.",
        discussion: """
            Input lines are "SEQ KEY VALUE" (write a file with --generate N). Output lines go to \
            part files in --output, published only when the checkpoint covering them completes. \
            Restarted with the same --state, the job resumes from its newest valid checkpoint.
            """
    )

    @Option(help: "Input file of \"SEQ KEY VALUE\" lines.")
    var input: String

    @Option(help: "Directory of the committed output part files.")
    var output: String?

    @Option(help: "State directory (checkpoints).")
    var state: String?

    @Option(help: "Write an input file of this many numbered records to --input and exit.")
    var generate: Int?

    @Option(help: "Number of distinct keys in generated input.")
    var keys = 1000

    @Option(help: "Milliseconds between checkpoints.")
    var intervalMs: Int64 = 200

    @Option(help: "Parallelism of the keyed operators and the sink (the file is read by one reader).")
    var parallelism = 2

    func validate() throws {
        if let generate, generate <= 0 { throw ValidationError("--generate must be positive, got \(generate)") }
        if generate == nil && (output == nil || state == nil) { throw ValidationError("--output and --state are required to run the job") }
        guard intervalMs > 0 else { throw ValidationError("--interval-ms must be positive, got \(intervalMs)") }
        guard (1...64).contains(parallelism) else { throw ValidationError("--parallelism must be within 1...64, got \(parallelism)") }
    }

    struct Record: Sendable {
        var seq: Int64
        var key: Int
        var value: Int
    }

    struct MalformedLine: Error, CustomStringConvertible {
        var line: String
        var description: String { "malformed input line (expected \"SEQ KEY VALUE\"): \(line)" }
    }

    func run() throws {
        if let generate { return try writeInput(count: generate) }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let env = StreamEnvironment(name: "exactly-once-demo", parallelism: parallelism)
        env.checkpointing = CheckpointConfig(directory: state!, interval: .milliseconds(intervalMs))
        let records = env.readLines(input, name: "numbered records", parallelism: 1)
            // One reader, parsed in its task: every key's records keep the file's order, so
            // the running counts are the same in every run (what the crash test compares).
            .map(name: "parse", parallelism: 1) { line -> Record in
                let f = line.split(separator: " ")
                guard f.count == 3, let seq = Int64(f[0]), let key = Int(f[1]), let value = Int(f[2]) else {
                    throw MalformedLine(line: line)
                }
                return Record(seq: seq, key: key, value: value)
            }
            .assignTimestamps(parallelism: 1, .boundedOutOfOrderness(.zero) { $0.seq })
        let running = records.keyBy(\.key).process(name: "running count") { (r: Record, ctx: KeyedContext<Int, String>) in
            let count = try ctx.valueState("count", Int.self)
            let sum = try ctx.valueState("sum", Int.self)
            let n = (count.value ?? 0) + 1
            let s = (sum.value ?? 0) + r.value
            count.update(n)
            sum.update(s)
            try ctx.emit("running key=\(r.key) seq=\(r.seq) count=\(n) sum=\(s)")
        }
        let windows = records.keyBy(\.key).window(.tumbling(.milliseconds(10_000)))
            .aggregate(StatsAggregate { Double($0.value) })
            .map(name: "format window") { "window key=\($0.key) \($0.window) count=\($0.value.count) sum=\(Int($0.value.sum))" }
        running.union(windows).writeLinesExactlyOnce(to: output!, name: "exactly-once files")
        let job = try env.start()
        _ = try job.wait()
        let checkpoints = job.completedCheckpoints
        print("done: \(checkpoints.count) checkpoints completed in this run")
    }

    private func writeInput(count: Int) throws {
        var text = ""
        text.reserveCapacity(count * 16)
        var state: UInt64 = 0x5eed
        for seq in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let key = Int((state >> 33) % UInt64(keys))
            let value = Int((state >> 13) % 1000)
            text += "\(seq) \(key) \(value)\n"
        }
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        print("wrote \(count) records to \(input)")
    }
}
