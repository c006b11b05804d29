import Foundation

/// The benchmark harness: `vigil-bench NAME [--quick] [--json FILE]` (usually through
/// `benchmarks/run NAME`), or `vigil-bench NAME... [--quick] [--results-dir DIR]` (through
/// `vigil bench`): every benchmark named, then one table of their headline figures.
let arguments = Array(CommandLine.arguments.dropFirst())
func value(after flag: String) -> String? {
    arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let quick = arguments.contains("--quick")
let jsonPath = value(after: "--json")
let resultsDir = value(after: "--results-dir")
var names: [String] = []
var i = 0
while i < arguments.count {
    if ["--json", "--results-dir"].contains(arguments[i]) { i += 2; continue }
    if !arguments[i].hasPrefix("--") { names.append(arguments[i]) }
    i += 1
}
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}
if names.isEmpty { fail("usage: vigil-bench NAME... [--quick] [--json FILE | --results-dir DIR]\nbenchmarks: \(benchmarkOrder.joined(separator: ", "))") }
if names == ["all"] { names = benchmarkOrder }
if let unknown = names.first(where: { benchmarks[$0] == nil }) { fail("unknown benchmark '\(unknown)'; known: \(benchmarkOrder.joined(separator: ", ")), all") }
if jsonPath != nil && names.count > 1 { fail("--json takes one benchmark; use --results-dir DIR for several") }

var results: [(name: String, figures: Figures?)] = []
for name in names {
    do {
        let figures = try benchmarks[name]!(quick)
        if let jsonPath { try figures.writeJSON(to: jsonPath) }
        if let resultsDir { try figures.writeJSON(to: resultsDir + "/\(name).json") }
        results.append((name, figures))
    } catch {
        FileHandle.standardError.write(Data("benchmark \(name) failed: \(error)\n".utf8))
        results.append((name, nil))
    }
}
if names.count > 1 || resultsDir != nil {
    print("\n== Vigil benchmarks: headline figures (medians; ratios measured in the same run)\n")
    print(Headline.table(results))
}
if results.contains(where: { $0.figures == nil }) { exit(1) }
