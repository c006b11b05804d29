import AIOps
import RCA
import XCTest

/// A case replayed through OTLP protobuf and Vigil's decoders arrives as it left: the path the
/// benchmark figures are measured on is the production path, and loses nothing.
final class OTLPReplayTests: XCTestCase {
    func testRecordsSurviveTheRoundTripThroughOTLP() throws {
        let records: [ReplayRecord] = [
            .span(ObservedSpan(service: "cart", operation: "GET /cart", pod: "cart-7d9-x", host: "node-1", spanID: 0xabc, parentSpanID: 0x12,
                               kind: .server, startNanos: 1_000, durationNanos: 5_000, isError: true)),
            .log(RawLog(timeNanos: 2_000, service: "cart", pod: "cart-7d9-x", spanID: 0xabc, text: "ERROR c.s.CartServiceImpl#88 no stock for item 7",
                        codeLocation: "c.s.CartServiceImpl#88", isError: true)),
            .metric(ObservedMetric(timeNanos: 3_000, entity: Entity(.pod, "cart-7d9-x"), name: "CpuUsageRate(%)", value: 12.5)),
            .metric(ObservedMetric(timeNanos: 4_000, entity: .service("PetSite"), name: "latency Average", value: 0.25)),
        ]
        let c = RCACase(id: "x", group: "g", rootCause: "cart", incidentStart: 0, incidentEnd: 1, records: records)
        let back = try OTLPReplay.throughOTLP(c).records
        XCTAssertEqual(back.count, 4)
        guard case .span(let s) = back[0], case .log(let l) = back[1], case .metric(let m) = back[2], case .metric(let m2) = back[3] else {
            return XCTFail("\(back)")
        }
        XCTAssertEqual([s.service, s.operation, s.pod, s.host], ["cart", "GET /cart", "cart-7d9-x", "node-1"])
        XCTAssertEqual([s.spanID, s.parentSpanID, s.startNanos, s.durationNanos], [0xabc, 0x12, 1_000, 5_000])
        XCTAssertEqual(s.kind, .server)
        XCTAssertTrue(s.isError)
        XCTAssertEqual([l.service, l.pod, l.text, l.codeLocation], ["cart", "cart-7d9-x", "ERROR c.s.CartServiceImpl#88 no stock for item 7", "c.s.CartServiceImpl#88"])
        XCTAssertEqual(l.spanID, 0xabc)
        XCTAssertTrue(l.isError)
        XCTAssertEqual(m.entity, Entity(.pod, "cart-7d9-x"))
        XCTAssertEqual(m.value, 12.5)
        XCTAssertEqual(m2.entity, .service("PetSite"))
        XCTAssertEqual(m2.name, "latency Average")
    }
}
