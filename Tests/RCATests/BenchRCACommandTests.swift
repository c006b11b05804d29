import Foundation
import VigilTestSupport
import XCTest

/// `vigil bench rca` as a user runs it, on a small folder of the PetShop layout: front calls
/// middle calls store; the store gets slow and so, through it, does everything above it.
final class BenchRCACommandTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-rca-\(UUID().uuidString)")
        let scenario = dir.appendingPathComponent("shop")
        try FileManager.default.createDirectory(at: scenario.appendingPathComponent("noissue"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: scenario.appendingPathComponent("test/issue_0"), withIntermediateDirectories: true)
        let nodes = ["front", "middle", "store", "cache"]
        try ([",front,middle,store,cache", "front,0,1,0,1", "middle,0,0,1,0", "store,0,0,0,0", "cache,0,0,0,0"].joined(separator: "\n") + "\n")
            .write(to: scenario.appendingPathComponent("graph.csv"), atomically: true, encoding: .utf8)
        func metrics(from start: Int, rows: Int, slow: (Int) -> Bool) -> String {
            var lines = ["microservice," + nodes.joined(separator: ","), "metric," + nodes.map { _ in "latency" }.joined(separator: ","),
                         "statistic," + nodes.map { _ in "Average" }.joined(separator: ","), "unix_timestamp,,,,"]
            for i in 0..<rows {
                let jitter = Double((i * 7919) % 7) / 1000
                let extra = slow(i) ? 0.5 : 0
                lines.append("\(start + 300 * i).0,\(0.10 + jitter + extra),\(0.05 + jitter + extra),\(0.02 + jitter + extra),\(0.01 + jitter)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        try metrics(from: 2_000_000_000, rows: 200, slow: { _ in false })
            .write(to: scenario.appendingPathComponent("noissue/metrics.csv"), atomically: true, encoding: .utf8)
        try metrics(from: 1_700_000_000, rows: 5, slow: { $0 >= 2 })
            .write(to: scenario.appendingPathComponent("test/issue_0/metrics.csv"), atomically: true, encoding: .utf8)
        try ("case_id,scenario,paper_split,issue,target_node,target_metric,target_agg,target_timestamp,root_cause_node\n"
             + "shop/test/issue_0,shop,test,issue_0,front,latency,Average,1700000500,store\n")
            .write(to: dir.appendingPathComponent("cases.csv"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testRanksTheCauseFirstAndWritesTheFigures() throws {
        let json = dir.appendingPathComponent("rca.json").path
        let graphs = dir.appendingPathComponent("graphs").path
        let (status, stdout, stderr) = try ChildProcesses.runVigilCapturingOutput(["bench", "rca", "--data", dir.path, "--json", json, "--verbose",
                                                                                   "--export-graphs", graphs])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("1 cases from"), stdout)
        XCTAssertTrue(stdout.contains("store → evidence rank 1: store"), stdout)
        XCTAssertTrue(stdout.contains("via front → middle → store"), stdout)
        let figures = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        XCTAssertEqual(figures["cases"] as? Int, 1)
        XCTAssertEqual(figures["ac1"] as? Double, 1)
        XCTAssertEqual((figures["ranks"] as? [[String: Any]])?.first?["rank"] as? Int, 1)
        // The incident window's graph, as JSON and DOT.
        let dot = try String(contentsOfFile: "\(graphs)/shop_test_issue_0.dot", encoding: .utf8)
        XCTAssertTrue(dot.contains(#""service:front" -> "service:middle""#), dot)
        let graph = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(graphs)/shop_test_issue_0.json"))) as! [String: Any]
        XCTAssertEqual((graph["edges"] as? [[String: Any]])?.filter { $0["kind"] as? String == "calls" }.count, 3)
    }

    func testAFolderOfNeitherLayoutIsRejectedWithTheReason() throws {
        let (status, _, stderr) = try ChildProcesses.runVigilCapturingOutput(["bench", "rca", "--data", dir.appendingPathComponent("shop/noissue").path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(stderr.contains("neither the Nezha layout"), stderr)
    }
}
