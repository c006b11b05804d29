import Foundation
import XCTest
@testable import RCA

final class DatasetTests: XCTestCase {
    func testNezhaRowsAreReadAsTheReadmeSays() throws {
        XCTAssertEqual(NezhaDataset.service(ofPod: "ts-basic-service-5dc8d4f9fd-46997"), "ts-basic-service")
        XCTAssertEqual(NezhaDataset.message(ofDockerLine: #"{"log":"16:52:28.243 INFO  t.s.TravelServiceImpl#532 TraceID: x [a]\n","stream":"stdout"}"#),
                       "INFO  t.s.TravelServiceImpl#532 TraceID: x [a]")
        XCTAssertEqual(NezhaDataset.isoNanos("2023-01-29T09:33:14.716Z"), 1_674_984_794_716_000_000)
        XCTAssertEqual(NezhaDataset.isoNanos("2023-01-29T09:33:14.716123456"), 1_674_984_794_716_123_456)
        XCTAssertNil(NezhaDataset.isoNanos("yesterday"))
        XCTAssertEqual(UInt64(spanIDHex: "1eb0ad916fc49e43"), 0x1eb0_ad91_6fc4_9e43)
        XCTAssertNil(UInt64(spanIDHex: "root"))
    }

    func testADamagedLineIsSkippedAloneAndCounted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rca-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.csv").path
        // The second row has text spliced after its closing quote, with a stray quote that a
        // whole-file parser would carry into the rows after it.
        try "a,b,c\r\n1,2,\"x\"\r\n3,4,\"y\"ulate, time \"z\r\n5,6,\"w\"\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        let before = NezhaDataset.skippedLines
        let t = try CSVTable(path: path)
        XCTAssertEqual(t.records, [["1", "2", "x"], ["5", "6", "w"]])
        XCTAssertEqual(t.skippedLines, [3])
        XCTAssertEqual(NezhaDataset.skippedLines, before + 1)
        XCTAssertThrowsError(try t.column("d")) { XCTAssertTrue("\($0)".contains("no column d")) }
    }

    /// PetShop's incident window is the first 5-minute bucket that starts after the target
    /// time, also when the target falls exactly on a bucket's start (the dataset's authors
    /// analyse that bucket: the third of every issue's file). The bucket the fault began in is
    /// not baseline either: it once was, and in the temporal scenarios (no normal history) its
    /// half-faulty readings made up half the baseline and hid a fivefold latency.
    func testAPetShopIncidentStartsAtTheFirstBucketAfterTheTarget() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-petshop-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("s/test/aligned"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("s/test/inside"), withIntermediateDirectories: true)
        try """
            case_id,scenario,target_node,target_metric,target_timestamp,root_cause_node
            s/test/aligned,s,web,latency,1300,db
            s/test/inside,s,web,latency,1450,db

            """.write(to: dir.appendingPathComponent("cases.csv"), atomically: true, encoding: .utf8)
        try ",web,db\nweb,0,1\ndb,0,0\n".write(to: dir.appendingPathComponent("s/graph.csv"), atomically: true, encoding: .utf8)
        // Three header rows (component, metric, statistic), the timestamp row, five buckets.
        let metrics = ",web,db\n,latency,latency\n,Average,Average\nunix_timestamp,,\n"
            + [1000, 1300, 1600, 1900, 2200].map { "\($0).0,\($0 == 1000 ? 0.1 : 0.5),0.01\n" }.joined()
        for issue in ["aligned", "inside"] {
            try metrics.write(to: dir.appendingPathComponent("s/test/\(issue)/metrics.csv"), atomically: true, encoding: .utf8)
        }
        XCTAssertTrue(PetShopDataset.isLayout(dir))
        let cases = try PetShopDataset.load(dir)
        XCTAssertEqual(cases.map(\.id), ["s/test/aligned", "s/test/inside"])
        XCTAssertEqual(cases.map(\.incidentStart), [1_600_000, 1_600_000])
        XCTAssertEqual(cases.map(\.incidentEnd), [1_900_000, 1_900_000])
        XCTAssertEqual(cases.map(\.baselineEnd), [1_300_000, 1_300_000])
        for c in cases {
            let input = try RCAReplay().run(c)
            let web = input.baseline.metrics[MetricKey(entity: .service("web"), name: "latency Average")]
            XCTAssertEqual(web?.count, 1, c.id)
            XCTAssertEqual(web?.mean, 0.1, c.id)
        }
    }

    func testTheGraphExportsAsJSONAndDOT() throws {
        var system = SyntheticSystem()
        for s in 0..<5 { system.request(chain: ["web", "db-proxy"], second: s, lines: ["db-proxy": [7]], errors: ["db-proxy"]) }
        system.graph.flush()
        let w = system.graph.closed[0]
        let object = try JSONSerialization.jsonObject(with: Data(try w.json(templateNames: [7: "query took <*> ms"]).utf8)) as! [String: Any]
        let edges = object["edges"] as! [[String: Any]]
        let call = edges.first { $0["kind"] as? String == "calls" }!
        XCTAssertEqual(call["from"] as? String, "service:web")
        XCTAssertEqual(call["errors"] as? Int, 5)
        let nodes = object["nodes"] as! [[String: Any]]
        XCTAssertEqual(nodes.first { $0["kind"] as? String == "log_template" }?["template"] as? String, "query took <*> ms")
        let dot = w.dot()
        XCTAssertTrue(dot.hasPrefix("digraph vigil {"))
        XCTAssertTrue(dot.contains(#""service:web" -> "service:db-proxy" [label="5 calls, 5 errors"#), dot)
        XCTAssertTrue(dot.contains(#""service:db-proxy" -> "pod:db-proxy-pod" [style=dashed"#))
    }
}
