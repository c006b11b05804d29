import Foundation

/// The benchmark harness: `vigil-bench NAME [--quick] [--json FILE]` (usually through
/// `benchmarks/run NAME`).
let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first else {
    FileHandle.standardError.write("usage: vigil-bench NAME [--quick] [--json FILE]\nbenchmarks: \(benchmarks.keys.sorted().joined(separator: ", "))\n".data(using: .utf8)!)
    exit(2)
}
let quick = arguments.contains("--quick")
let jsonPath = arguments.firstIndex(of: "--json").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }

guard let benchmark = benchmarks[name] else {
    FileHandle.standardError.write("unknown benchmark '\(name)'; known: \(benchmarks.keys.sorted().joined(separator: ", "))\n".data(using: .utf8)!)
    exit(2)
}
do {
    let figures = try benchmark(quick)
    if let jsonPath { try figures.writeJSON(to: jsonPath) }
} catch {
    FileHandle.standardError.write("benchmark \(name) failed: \(error)\n".data(using: .utf8)!)
    exit(1)
}
