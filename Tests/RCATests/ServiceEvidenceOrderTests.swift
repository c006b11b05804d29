import Foundation
@testable import RCA
import XCTest

/// Indicators of equal weight are ordered by kind and text, not by the order they came in
/// (dictionary order, hash-seeded per process): a replay named other evidence than the live
/// run for the same incident when two latency shifts tied.
final class ServiceEvidenceOrderTests: XCTestCase {
    func testEqualWeightsBreakTheSameWayWhateverTheInputOrder() {
        let a = Indicator(kind: .latency, entity: .service("orders"), surprise: 468.3, ratio: 60, detail: "orders: INSERT orders latency p50 ×60.3")
        let b = Indicator(kind: .latency, entity: .service("orders"), surprise: 468.3, ratio: 37, detail: "orders: CreateOrder latency p50 ×37.3")
        let window = GraphWindow(start: 0, end: 60_000)
        func order(_ indicators: [Indicator]) -> [String] {
            ServiceEvidence(RankingInput(current: window, baseline: window, indicators: indicators), threshold: 0)
                .indicators[.service("orders")]?.map(\.detail) ?? []
        }
        XCTAssertEqual(order([a, b]), order([b, a]))
        XCTAssertEqual(order([a, b]).first, b.detail)
    }
}
