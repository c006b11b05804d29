import Detectors
import Foundation
import XCTest

/// The miner on the shared Loghub datasets against the corrected ground truth: a guard against
/// accuracy regressions (the figures themselves come from `benchmarks/run loghub`). The floors
/// sit a little under what this build scores (GA 0.954, PA 0.877, FGA 0.915 on average).
final class LoghubAccuracyTests: XCTestCase {
    func testAverageAccuracyOnTheSharedDatasetsStaysAboveTheGoals() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data/loghub-2k").standardized
        guard let settingsData = FileManager.default.contents(atPath: root.appendingPathComponent("settings.json").path) else {
            throw XCTSkip("../shared/data/loghub-2k is not here")
        }
        let settings = try JSONSerialization.jsonObject(with: settingsData) as! [String: [String: Any]]
        var sums = (ga: 0.0, pa: 0.0, fga: 0.0)
        var datasets = 0
        for (name, s) in settings.sorted(by: { $0.key < $1.key }) {
            let truthPath = root.appendingPathComponent("\(name)/\(name)_2k.log_structured_corrected.csv").path
            guard FileManager.default.fileExists(atPath: truthPath) else { continue }
            let format = try LogFormat(s["log_format"] as! String)
            let config = TemplateMinerConfig(similarity: s["st"] as! Double, depth: 3, masks: s["regex"] as! [String])
            let parse = TemplateAssignments(miner: try TemplateMiner(config: config))
            let log = try Data(contentsOf: root.appendingPathComponent("\(name)/\(name)_2k.log"))
            var lines = log.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
            if lines.last?.isEmpty == true { lines.removeLast() }
            for line in lines {
                let bytes = line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
                bytes.withUnsafeBufferPointer { p in
                    let content = format.content(of: p).map { UnsafeBufferPointer(rebasing: p[$0]) } ?? UnsafeBufferPointer(rebasing: p[0..<0])
                    parse.add(content)
                }
            }
            let truth = try CSVReader.records(String(contentsOfFile: truthPath, encoding: .utf8))
            let predicted = parse.resolve()
            XCTAssertEqual(predicted.count, truth.count, name)
            guard predicted.count == truth.count else { continue }
            let scores = ParsingAccuracy.score(trueGroups: truth.map { $0["EventId"]! }, trueTemplates: truth.map { $0["EventTemplate"]! },
                                               predictedGroups: predicted, predictedTemplates: predicted)
            sums.ga += scores.groupingAccuracy
            sums.pa += scores.parsingAccuracy
            sums.fga += scores.f1GroupingAccuracy
            datasets += 1
        }
        XCTAssertEqual(datasets, 10)
        let n = Double(datasets)
        XCTAssertGreaterThanOrEqual(sums.ga / n, 0.95)
        XCTAssertGreaterThanOrEqual(sums.pa / n, 0.85)
        XCTAssertGreaterThanOrEqual(sums.fga / n, 0.90)
    }
}
