/// How well a log parser grouped lines and recovered templates, as the Loghub benchmarks
/// score it (Zhu et al., ICSE-SEIP 2019; Jiang et al., ISSTA 2024).
public struct ParsingScores: Sendable, Equatable {
    /// Grouping accuracy: the share of lines whose predicted group holds exactly the lines of
    /// their true group.
    public var groupingAccuracy: Double
    /// Parsing accuracy: the share of lines whose predicted template equals the true one
    /// (whitespace runs collapsed).
    public var parsingAccuracy: Double
    /// F1 over groups: a predicted group counts when it holds exactly the lines of a true group.
    public var f1GroupingAccuracy: Double
    public var lines: Int
    public var predictedGroups: Int
    public var trueGroups: Int
}

public enum ParsingAccuracy {
    /// Scores line i's predicted group id and template against its true ones. All four arrays
    /// have one entry per line, in the same order.
    public static func score(trueGroups: [String], trueTemplates: [String],
                             predictedGroups: [String], predictedTemplates: [String]) -> ParsingScores {
        precondition(trueGroups.count == predictedGroups.count && trueTemplates.count == predictedTemplates.count
                     && trueGroups.count == trueTemplates.count, "one entry per line in every array")
        let n = trueGroups.count
        guard n > 0 else {
            return ParsingScores(groupingAccuracy: 0, parsingAccuracy: 0, f1GroupingAccuracy: 0, lines: 0, predictedGroups: 0, trueGroups: 0)
        }
        var linesOfTrue: [String: [Int]] = [:]
        var linesOfPredicted: [String: [Int]] = [:]
        for i in 0..<n {
            linesOfTrue[trueGroups[i], default: []].append(i)
            linesOfPredicted[predictedGroups[i], default: []].append(i)
        }
        // A predicted group is exact when all its lines share one true group of the same size.
        var exactGroups = 0
        var linesInExactGroups = 0
        for (_, lines) in linesOfPredicted {
            let truth = trueGroups[lines[0]]
            if lines.allSatisfy({ trueGroups[$0] == truth }) && linesOfTrue[truth]!.count == lines.count {
                exactGroups += 1
                linesInExactGroups += lines.count
            }
        }
        var templatesRight = 0
        for i in 0..<n where collapsingWhitespace(trueTemplates[i]) == collapsingWhitespace(predictedTemplates[i]) {
            templatesRight += 1
        }
        let precision = Double(exactGroups) / Double(linesOfPredicted.count)
        let recall = Double(exactGroups) / Double(linesOfTrue.count)
        return ParsingScores(
            groupingAccuracy: Double(linesInExactGroups) / Double(n),
            parsingAccuracy: Double(templatesRight) / Double(n),
            f1GroupingAccuracy: precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            lines: n, predictedGroups: linesOfPredicted.count, trueGroups: linesOfTrue.count)
    }

    /// The text with leading/trailing whitespace removed and inner runs made one space.
    public static func collapsingWhitespace(_ s: String) -> String {
        s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }
}
