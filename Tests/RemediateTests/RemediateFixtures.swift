import Foundation
@testable import Remediate

/// Incidents and paths the remediation tests share.
enum RemediateFixtures {
    static var fixtures: String { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path }
    static var recordArgv: String { fixtures + "/record_argv.py" }
    static var webhookReceiver: String { fixtures + "/webhook_receiver.py" }

    static func temporaryDirectory(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(name)-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func incident(_ id: UInt64, at t: Int64, change: String = "opened", cause: String = "ts-order-service", kind: String = "service",
                         signals: [String] = ["p99_ms"], summary: String = "slow") -> RemediationIncident {
        RemediationIncident(change: change, id: id, openedMs: t, lastEvidenceMs: t, closedMs: change == "closed" ? t : nil,
                            anomalies: signals.count, anomalyKinds: signals, entities: [cause], services: kind == "service" ? [cause] : [],
                            causes: [.init(entity: cause, entityKind: kind, score: 0.9, evidence: ["latency p99 ×8"], path: [cause])],
                            summary: summary)
    }
}

/// The webhook receiver (Fixtures/webhook_receiver.py) as a child process on loopback.
final class WebhookReceiver {
    let process = Process()
    let log: String
    let port: Int

    init(directory: String, failFirst: Int = 0, answer: Int = 200, hang: Bool = false) throws {
        log = directory + "/received.jsonl"
        let portFile = directory + "/receiver.port"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [RemediateFixtures.webhookReceiver, "--port-file", portFile, "--log", log, "--fail-first", String(failFirst), "--answer", String(answer)] + (hang ? ["--hang"] : [])
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: portFile) {
            guard Date() < deadline, process.isRunning else { throw NSError(domain: "webhook receiver did not start", code: 1) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        port = Int(try String(contentsOfFile: portFile, encoding: .utf8))!
    }

    deinit { process.terminate(); process.waitUntilExit() }

    var url: String { "http://127.0.0.1:\(port)/api/v2/alerts" }

    struct Request: Decodable {
        var path: String
        var headers: [String: String]
        var body: String
        var answered: Int
    }

    var requests: [Request] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }
}
