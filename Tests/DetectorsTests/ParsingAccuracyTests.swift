import Detectors
import Foundation
import XCTest

final class ParsingAccuracyTests: XCTestCase {
    func testGroupingParsingAndF1AccuracyOnAHandMadeCase() {
        // Truth: A = lines 0,1,2; B = 3,4; C = 5.
        // Prediction: {0,1,2} exact; {3} and {4} split B; {5} exact.
        let scores = ParsingAccuracy.score(
            trueGroups: ["A", "A", "A", "B", "B", "C"],
            trueTemplates: ["open <*>", "open <*>", "open <*>", "close <*> now", "close <*> now", "idle"],
            predictedGroups: ["1", "1", "1", "2", "3", "4"],
            predictedTemplates: ["open <*>", "open  <*> ", "open x", "close <*> now", "close 7 now", "idle"])
        XCTAssertEqual(scores.groupingAccuracy, 4.0 / 6, accuracy: 1e-12, "lines of the exact groups {0,1,2} and {5}")
        XCTAssertEqual(scores.parsingAccuracy, 4.0 / 6, accuracy: 1e-12, "whitespace collapsed: lines 0, 1, 3, 5")
        // 2 exact groups of 4 predicted and 3 true: P = 1/2, R = 2/3, F1 = 4/7.
        XCTAssertEqual(scores.f1GroupingAccuracy, 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(scores.predictedGroups, 4)
        XCTAssertEqual(scores.trueGroups, 3)
    }

    func testMergingTwoTrueGroupsMakesBothWrong() {
        let scores = ParsingAccuracy.score(trueGroups: ["A", "A", "B"], trueTemplates: ["a", "a", "b"],
                                           predictedGroups: ["1", "1", "1"], predictedTemplates: ["<*>", "<*>", "<*>"])
        XCTAssertEqual(scores.groupingAccuracy, 0)
        XCTAssertEqual(scores.parsingAccuracy, 0)
        XCTAssertEqual(scores.f1GroupingAccuracy, 0)
    }

    func testCSVWithQuotedCommasQuotesAndLineBreaks() throws {
        let text = "LineId,Content,EventId\r\n1,\"a, b\",E1\r\n2,\"say \"\"hi\"\"\",E2\n3,\"two\nlines\",E3\n"
        let records = try CSVReader.records(text)
        XCTAssertEqual(records.map { $0["Content"]! }, ["a, b", "say \"hi\"", "two\nlines"])
        XCTAssertEqual(records.map { $0["EventId"]! }, ["E1", "E2", "E3"])
        XCTAssertThrowsError(try CSVReader.rows("a,\"open\nb,c\n")) { XCTAssertTrue("\($0)".contains("row 1")) }
        XCTAssertThrowsError(try CSVReader.records("a,b\n1,2,3\n")) { XCTAssertTrue("\($0)".contains("row 2")) }
    }

    /// The ground truth scored against itself is perfect, on every shared Loghub dataset.
    func testEveryLoghubGroundTruthScoresOneAgainstItself() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data/loghub-2k").standardized.path
        guard let datasets = try? FileManager.default.contentsOfDirectory(atPath: root) else {
            throw XCTSkip("../shared/data/loghub-2k is not here")
        }
        var scored = 0
        for name in datasets.sorted() {
            let path = "\(root)/\(name)/\(name)_2k.log_structured_corrected.csv"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let records = try CSVReader.records(text)
            XCTAssertEqual(records.count, 2000, name)
            let groups = records.map { $0["EventId"]! }, templates = records.map { $0["EventTemplate"]! }
            let s = ParsingAccuracy.score(trueGroups: groups, trueTemplates: templates, predictedGroups: groups, predictedTemplates: templates)
            XCTAssertEqual([s.groupingAccuracy, s.parsingAccuracy, s.f1GroupingAccuracy], [1, 1, 1], name)
            scored += 1
        }
        XCTAssertEqual(scored, 10, "the ten shared datasets")
    }
}
