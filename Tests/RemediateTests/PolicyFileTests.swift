import Foundation
import XCTest
@testable import Remediate

final class PolicyFileTests: XCTestCase {
    let valid = """
        services:
          ts-order-service: {team: orders, tier: "1"}
        policies:
          - name: page-oncall
            match:
              severity: critical
              labels: {team: orders}
            dedup_key: "{policy.name}:{root_cause.entity}"
            dedup_window: 2h
            cooldown: 10m
            rate_limit: {count: 5, period: 1h}
            actions:
              - webhook:
                  url: http://alertmanager:9093/api/v2/alerts
                  body: alertmanager
                  headers: {Authorization: "Bearer ${env:AM_TOKEN}"}
                  timeout: 2s
                  retries: 2
                  backoff: 100ms
              - kafka: {topic: vigil_remediations}
          - name: restart
            match: {root_cause_kind: [service, pod], root_cause_entity: "ts-*-service", changes: opened}
            approval: {timeout: 30m}
            actions:
              - exec: {program: /bin/echo, args: [restart, "deployment/{root_cause.service}"], env: [KUBECONFIG], timeout: 1m}
          - name: watch
            dry_run: true
            actions:
              - exec: {program: /bin/true}
        """

    func testAValidFileGivesItsPolicies() throws {
        let c = try PolicyFile.parse(valid, file: "p.yaml")
        XCTAssertEqual(c.policies.map(\.name), ["page-oncall", "restart", "watch"])
        XCTAssertEqual(c.serviceLabels["ts-order-service"], ["team": "orders", "tier": "1"])
        let page = c.policies[0]
        XCTAssertEqual(page.match.minimumSeverity, .critical)
        XCTAssertEqual(page.dedupWindowMs, 7_200_000)
        XCTAssertEqual(page.cooldownMs, 600_000)
        XCTAssertEqual(page.rateLimit, .init(count: 5, periodMs: 3_600_000))
        XCTAssertEqual(page.actions.count, 2)
        guard case .webhook(let w) = page.actions[0] else { return XCTFail("\(page.actions)") }
        XCTAssertEqual(w.body, .alertmanager)
        XCTAssertEqual(w.timeoutMs, 2000)
        XCTAssertEqual(w.retries, 2)
        let restart = c.policies[1]
        XCTAssertEqual(restart.approvalTimeoutMs, 1_800_000)
        XCTAssertEqual(restart.match.changes, ["opened"])
        guard case .exec(let e) = restart.actions[0] else { return XCTFail("\(restart.actions)") }
        XCTAssertEqual(e.arguments.map(\.source), ["restart", "deployment/{root_cause.service}"])
        XCTAssertTrue(c.policies[2].dryRun)
    }

    /// Each bad file is rejected with the line of the problem and words that name it.
    func testBadFilesAreRejectedWithTheLineAndTheReason() {
        let cases: [(yaml: String, line: Int, reason: String)] = [
            ("policies:\n  - name: a\n    actionz: []\n", 3, "unknown key 'actionz' in a policy"),
            ("policies:\n  - name: a\n    actions: []\n", 3, "actions must be a non-empty list"),
            ("policies:\n  - name: a\n    cooldown: 30\n    actions: [{exec: {program: /bin/true}}]\n", 3, "'30' is not a duration"),
            ("policies:\n  - name: a\n    actions:\n      - exec: {program: rm}\n", 4, "must be an absolute path"),
            ("policies:\n  - name: a\n    actions:\n      - exec: {program: /nonexistent/tool}\n", 4, "is not an executable file"),
            ("policies:\n  - name: a\n    actions:\n      - exec: {program: /nonexistent/tool}\n    dry_run: false\n", 4, "is not an executable file"),
            ("policies:\n  - name: a\n    actions:\n      - exec: {program: /bin/echo, args: \"{root_cause.entity}\"}\n", 4, "exec.args must be a list"),
            ("policies:\n  - name: a\n    actions:\n      - exec: {program: /bin/echo, args: [\"{root.cause}\"]}\n", 4, "unknown field {root.cause}"),
            ("policies:\n  - name: a\n    actions:\n      - webhook: {url: \"ftp://x/y\"}\n", 4, "is not an http:// or https:// URL"),
            ("policies:\n  - name: a\n    actions:\n      - webhook: {url: \"http://x/\", headers: {Authorization: \"${AM_TOKEN}\"}}\n", 4, "is not a reference to an environment variable"),
            ("policies:\n  - name: a\n    actions:\n      - webhook: {url: \"http://x/\", body: slack}\n", 4, "unknown 'slack'; expected alertmanager or incident"),
            ("policies:\n  - name: a\n    actions:\n      - webhook: {url: \"http://x/\"}\n        exec: {program: /bin/true}\n", 4, "exactly one of webhook, exec or kafka"),
            ("policies:\n  - name: a\n    match: {severity: high}\n    actions: [{exec: {program: /bin/true}}]\n", 3, "unknown 'high'"),
            ("policies:\n  - name: a\n    match: {root_cause_kind: database}\n    actions: [{exec: {program: /bin/true}}]\n", 3, "root_cause_kind: unknown database"),
            ("policies:\n  - name: a\n    rate_limit: {count: 5}\n    actions: [{exec: {program: /bin/true}}]\n", 3, "rate_limit needs both count and period"),
            ("policies:\n  - name: a\n    rate_limit: {count: 0, period: 1h}\n    actions: [{exec: {program: /bin/true}}]\n", 3, "rate_limit.count must be within 1...1000000"),
            ("policies:\n  - name: a\n    dry_run: true\n    approval: {timeout: 5m}\n    actions: [{exec: {program: /bin/true}}]\n", 2, "is dry_run and needs approval"),
            ("policies:\n  - name: a\n    actions: [{exec: {program: /bin/true}}]\n  - name: a\n    actions: [{exec: {program: /bin/true}}]\n", 4, "a second policy named 'a' (the first is on line 2)"),
            ("policies:\n  - actions: [{exec: {program: /bin/true}}]\n", 2, "a policy needs a name"),
            ("policies:\n  - name: a\n    actions: [{kafka: {key: \"{incident.id}\"}}]\n", 3, "kafka needs a topic"),
            ("policy:\n  - name: a\n", 1, "unknown key 'policy'"),
            ("policies:\n  - name: a\n    actions: [{exec: {program: /bin/true}\n", 4, "not valid YAML"),
            ("", 1, "the file is empty"),
        ]
        for c in cases {
            XCTAssertThrowsError(try PolicyFile.parse(c.yaml, file: "bad.yaml"), c.reason) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("bad.yaml:\(c.line): "), "expected line \(c.line) for \(c.reason): \(text)")
                XCTAssertTrue(text.contains(c.reason), "expected '\(c.reason)' in: \(text)")
            }
        }
    }

    func testADryRunPolicyMayNameAProgramThisMachineLacks() throws {
        let c = try PolicyFile.parse("policies:\n  - name: a\n    actions:\n      - exec: {program: /usr/local/bin/not-here}\n    dry_run: true\n", file: "f.yaml")
        XCTAssertTrue(c.policies[0].dryRun)
    }

    func testEveryProblemOfAFileIsReportedAtOnce() {
        let yaml = "policies:\n  - name: a\n    cooldown: soon\n    actions:\n      - exec: {program: relative}\n"
        XCTAssertThrowsError(try PolicyFile.parse(yaml, file: "f.yaml")) { error in
            let problems = (error as? ConfigError)?.problems ?? []
            XCTAssertEqual(problems.map(\.line), [3, 5], "\(problems)")
        }
    }

    func testTemplatesQuoteIncidentFieldsAndRefuseUnknownOnes() throws {
        var i = RemediateFixtures.incident(7, at: 1000, cause: "ts-order-service findOrder", kind: "operation")
        i.labels = ["team": "orders"]
        let t = try Template(parsing: "{{literal}} {policy.name}/{incident.id}: {root_cause.service} ({root_cause.kind}) team={labels.team} missing={labels.none}")
        XCTAssertEqual(t.render(i, policy: "p"), "{literal} p/7: ts-order-service (operation) team=orders missing=")
        XCTAssertThrowsError(try Template(parsing: "{incident.nope}"))
        XCTAssertThrowsError(try Template(parsing: "{incident.id"))
        XCTAssertThrowsError(try Template(parsing: "a}b"))
    }

    func testTimesAreWrittenInRFC3339AsFoundationWouldWriteThem() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for ms: Int64 in [0, 1, 999, 86_399_999, 951_782_400_000, 1_764_000_000_123, 4_107_542_400_000, -1, -86_400_001, 253_402_300_799_999] {
            XCTAssertEqual(WebhookBodies.rfc3339(ms), f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)), "\(ms)")
        }
    }

    func testSecretReferencesResolveFromTheEnvironmentOnly() throws {
        XCTAssertEqual(try SecretReference.resolve("Bearer ${env:T}", environment: ["T": "abc"]), "Bearer abc")
        XCTAssertThrowsError(try SecretReference.resolve("Bearer ${env:T}", environment: [:]))
        XCTAssertNil(SecretReference.problem(in: "plain ${env:A_1} and ${env:B}"))
        XCTAssertNotNil(SecretReference.problem(in: "${env:}"))
        XCTAssertNotNil(SecretReference.problem(in: "${env:A"))
    }
}
