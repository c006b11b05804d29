import ArgumentParser
import Foundation
import Stream

/// `vigil checkpoints list|inspect|delete`: what a job's state directory holds.
struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints",
        abstract: "Lists, inspects and deletes the checkpoints and savepoints of a job's state directory.",
        subcommands: [List.self, Inspect.self, Delete.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "The job's state directory (--state of vigil run, incidents, remediate, …).") var state: String

        /// The checkpoint root: `vigil run`/`incidents` keep theirs in STATE/checkpoints, other
        /// commands in STATE itself.
        func storage() throws -> CheckpointStorage {
            for root in [state + "/checkpoints", state] where CheckpointStorage(root: root).exists {
                return CheckpointStorage(root: root)
            }
            throw CheckpointsProblem(description: "no checkpoints or savepoints under \(state)")
        }

        /// The listing named `which`: a checkpoint id, or a savepoint's name.
        func find(_ which: String) throws -> (CheckpointStorage, CheckpointListing) {
            let s = try storage()
            let all = s.list()
            if let l = all.first(where: { $0.savepointName == which }) ?? Int64(which).flatMap({ id in all.first { $0.savepointName == nil && $0.id == id } }) {
                return (s, l)
            }
            throw CheckpointsProblem(description: "no checkpoint or savepoint '\(which)' under \(state); `vigil checkpoints list --state \(state)` shows them")
        }
    }

    static func status(_ l: CheckpointListing) -> String {
        switch l.status {
        case .valid: "valid"
        case .incomplete: "incomplete (never completed)"
        case .corrupt(let why): "CORRUPT: \(why)"
        }
    }

    static func created(_ l: CheckpointListing) -> String {
        guard let ms = l.metadata?.createdAtMillis else { return "-" }
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every checkpoint (newest first) and savepoint, verified.")
        @OptionGroup var location: Location

        func run() throws {
            let s = try location.storage()
            let restorable = s.restorable?.path
            print("checkpoints under \(s.root):")
            for l in s.list() {
                let name = l.savepointName.map { "savepoint \($0)" } ?? "checkpoint \(l.id.map(String.init) ?? "?")"
                let mark = l.path == restorable ? "  ← a restart restores this one" : ""
                print("  \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(created(l).padding(toLength: 21, withPad: " ", startingAt: 0)) \(String(l.bytes).leftPadded(10)) bytes  \(status(l))\(mark)")
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One checkpoint's job, operators and files, verified.")
        @OptionGroup var location: Location
        @Argument(help: "Checkpoint id or savepoint name.") var which: String

        func run() throws {
            let (_, l) = try location.find(which)
            print("\(l.savepointName.map { "savepoint \($0)" } ?? "checkpoint \(l.id ?? 0)") at \(l.path)")
            print("  status: \(status(l))")
            guard let m = l.metadata else { return }
            print("  job: \(m.job), created \(created(l)), max parallelism \(m.maxParallelism), format \(m.format) v\(m.version)")
            print("  operators:")
            for o in m.operators { print("    \(o.id) (parallelism \(o.parallelism))") }
            print("  files:")
            for f in m.files { print("    \(f.name): \(f.bytes) bytes, crc32c \(String(f.crc32c, radix: 16))") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deletes a checkpoint or savepoint.",
            discussion: "The checkpoint a restart would restore is kept unless --force: without it the job starts over.")
        @OptionGroup var location: Location
        @Argument(help: "Checkpoint id or savepoint name.") var which: String
        @Flag(help: "Delete even the checkpoint a restart would restore.") var force = false

        func run() throws {
            let (s, l) = try location.find(which)
            if l.path == s.restorable?.path && !force {
                FileHandle.standardError.write(Data("vigil checkpoints: checkpoint \(which) is the one a restart restores; --force to delete it anyway\n".utf8))
                throw ExitCode(1)
            }
            try s.delete(l)
            print("deleted \(l.path)")
        }
    }
}

struct CheckpointsProblem: Error, CustomStringConvertible {
    var description: String
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
