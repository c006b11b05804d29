import ArgumentParser
import Foundation

/// `vigil bench [NAME…]`: the benchmark suite (benchmarks/, the `vigil-bench` executable built
/// beside this one), then one table of each headline figure and its reference.
struct BenchSuiteCommand: ParsableCommand {
    static let names = ["runtime", "checkpoint", "kafka", "loghub", "nab", "rca", "remediate", "ebpf", "scaleout"]
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Runs the benchmark suite (default: all of it) and prints one table of figures and references.",
        discussion: """
            Names: \(names.joined(separator: ", ")). Runs the vigil-bench executable built beside \
            this vigil (swift build -c release --product vigil-bench; benchmarks/run builds it \
            too). Each benchmark prints its own table; the last table has the headline figures, \
            each beside the reference measured in the same run (a hand-written loop, raw \
            librdkafka, Drain3) or published. Figures go to benchmarks/results/NAME.json when run \
            from the repository. `vigil bench nab` and `vigil bench rca` without --data run the \
            suite's benchmark of that name.
            """
    )

    @Argument(help: "Benchmarks to run (default: all).") var benchmarks: [String] = []
    @Flag(help: "Shorter runs (fewer repetitions): a smoke test, not figures to quote.") var quick = false

    func validate() throws {
        if let unknown = benchmarks.first(where: { !Self.names.contains($0) }) {
            throw ValidationError("unknown benchmark '\(unknown)'; choose from \(Self.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        try Self.run(benchmarks.isEmpty ? Self.names : benchmarks, quick: quick)
    }

    static func run(_ names: [String], quick: Bool) throws {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let bench = here.appendingPathComponent("vigil-bench").path
        guard FileManager.default.isExecutableFile(atPath: bench) else {
            throw ValidationError("no vigil-bench beside this vigil (\(bench)): build it with `swift build -c release --product vigil-bench`, then run \(here.path)/vigil bench")
        }
        if here.path.contains("/debug") {
            FileHandle.standardError.write(Data("vigil bench: warning: this is a debug build; its figures are not worth quoting (use the release build)\n".utf8))
        }
        var arguments = names + (quick ? ["--quick"] : [])
        if FileManager.default.fileExists(atPath: "benchmarks/run") {
            try FileManager.default.createDirectory(atPath: "benchmarks/results", withIntermediateDirectories: true)
            arguments += ["--results-dir", "benchmarks/results"]
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bench)
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw ExitCode(p.terminationStatus) }
    }
}
