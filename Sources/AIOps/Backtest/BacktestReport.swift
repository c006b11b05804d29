import Detectors
import Foundation
import Remediate
import Stream

/// What `vigil replay` writes as `report.json`: the range it read, and how the job's incidents
/// and the metric detectors' verdicts compare with the labelled windows (scores are null
/// without labels).
public struct BacktestReport: Sendable, Codable {
    public struct Range: Sendable, Codable {
        public var from: String
        public var to: String
        public var topics: [String]
        public var messages: Int
        public var seconds: Double
        public var messagesPerSecond: Double

        /// `from`/`to` nil: the range was open at that end.
        public init(from: Int64?, to: Int64?, topics: [String], messages: Int, seconds: Double) {
            self.from = from.map(TimeText.rfc3339) ?? "earliest"
            self.to = to.map(TimeText.rfc3339) ?? "end"
            self.topics = topics
            self.messages = messages
            self.seconds = (seconds * 1000).rounded() / 1000
            messagesPerSecond = seconds > 0 ? (Double(messages) / seconds).rounded() : 0
        }
    }

    public struct IncidentSummary: Sendable, Codable {
        public var id: UInt64
        public var opened: String
        public var closed: String?
        public var severity: String
        public var rootCause: String?
        public var summary: String
    }

    public var range: Range
    public var detector: String
    public var labels: [LabelledWindow]
    public var incidents: IncidentScore
    public var detectors: DetectorScore
    public var incidentList: [IncidentSummary]

    public init(range: Range, detector: String, labels: [LabelledWindow], reports: [RemediationIncident], series: [String: [ScoredPoint]]) {
        self.range = range
        self.detector = detector
        self.labels = labels
        incidents = IncidentScore(reports: reports, windows: labels)
        detectors = DetectorScore(series: series, windows: labels)
        incidentList = BacktestIncidents.latest(reports).map {
            IncidentSummary(id: $0.id, opened: TimeText.rfc3339($0.openedMs), closed: $0.closedMs.map(TimeText.rfc3339),
                            severity: $0.severity.rawValue, rootCause: $0.rootCause?.entity, summary: $0.summary)
        }
    }

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}
