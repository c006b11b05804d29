import Detectors
import Stream
import XCTest

final class TemplateMinerTests: XCTestCase {
    private func mine(_ lines: [String], _ config: TemplateMinerConfig = TemplateMinerConfig()) throws -> (TemplateMiner, [LogMatch]) {
        let miner = try TemplateMiner(config: config)
        return (miner, lines.map { miner.add($0) })
    }

    func testNumbersAddressesAndDurationsAreParameters() throws {
        let (miner, _) = try mine(["Connection to 10.2.3.4:5432 timed out after 3000 ms"])
        XCTAssertEqual(miner.lastEventTemplate(), "Connection to <*> timed out after <*> ms")
    }

    func testRecognisersKeepPunctuationAroundParameters() throws {
        let (miner, _) = try mine([
            "image b9000564-fe1a-409b-b8cc-1e88b294cd1d at (/var/lib/nova/instances/_base/a489c8): checking blk_1608999687919862906 took 41C at Fri Jun 17 07:07:00 2005 on ssh2",
        ])
        XCTAssertEqual(miner.lastEventTemplate(), "image <*> at (<*>): checking <*> took <*> at <*> on ssh2")
    }

    func testATemplateKeepsItsIDAsItGeneralises() throws {
        let (miner, matches) = try mine([
            "session opened for user=root by uid=0",
            "session opened for user=news by uid=13",
        ])
        XCTAssertEqual(matches.map(\.kind), [.new, .generalized])
        XCTAssertEqual(matches[0].templateID, matches[1].templateID)
        XCTAssertEqual(miner.snapshot(of: matches[0].templateID)?.text, "session opened for user=<*> by uid=<*>")
    }

    func testFewWordsStayConstantVariantsManyBecomeAParameter() throws {
        let (states, stateMatches) = try mine(["VM Started (Lifecycle Event)", "VM Paused (Lifecycle Event)", "VM Started (Lifecycle Event)"])
        XCTAssertEqual(Set(stateMatches.map(\.templateID)).count, 1)
        XCTAssertNotEqual(stateMatches[0].variant, stateMatches[1].variant)
        XCTAssertEqual(stateMatches[0].variant, stateMatches[2].variant)
        XCTAssertEqual(states.lastEventTemplate(), "VM Started (Lifecycle Event)")

        let users = ["admin", "oracle", "test", "guest", "support"].map { "Invalid user \($0) from 1.2.3.4" }
        let (miner, matches) = try mine(users)
        XCTAssertEqual(Set(matches.map(\.templateID)).count, 1)
        XCTAssertEqual(miner.lastEventTemplate(), "Invalid user <*> from <*>")
        XCTAssertEqual(miner.snapshot(of: matches[0].templateID)?.text(messageTokens: []), "Invalid user <*> from <*>")
    }

    func testMessagesDifferingInTwoWordsAreDifferentTemplates() throws {
        let (_, matches) = try mine(["Command has completed successfully", "Command has been aborted"])
        XCTAssertNotEqual(matches[0].templateID, matches[1].templateID)
    }

    func testUserMasksUsePythonSyntaxWithLookbehind() throws {
        let (miner, _) = try mine(["listening on port http now"], TemplateMinerConfig(masks: [#"(?<=port )\w+"#]))
        XCTAssertEqual(miner.lastEventTemplate(), "listening on port <*> now")
        XCTAssertThrowsError(try TemplateMiner(config: TemplateMinerConfig(masks: ["(?<=x"]))) { error in
            XCTAssertTrue("\(error)".contains("(?<=x"), "\(error)")
        }
    }

    func testParametersAreTheRawTextUnderTheWildcards() throws {
        let miner = try TemplateMiner()
        var line = "Received block blk_42 of size 67108864 from /10.0.0.1"
        _ = miner.add(line)
        let parameters = line.withUTF8 { miner.lastParameters(of: $0) }
        XCTAssertEqual(parameters, ["blk_42", "67108864", "/10.0.0.1"])
    }

    func testTheLeastRecentlyUsedTemplateIsEvictedAtTheBound() throws {
        let miner = try TemplateMiner(config: TemplateMinerConfig(maxTemplates: 2))
        var evicted: [String] = []
        miner.onEvict = { evicted.append($0.text) }
        let first = miner.add("alpha starts here")
        _ = miner.add("beta runs there now")
        _ = miner.add("alpha starts here")  // alpha is now the most recently used
        _ = miner.add("gamma stops everything at once")
        XCTAssertEqual(miner.templateCount, 2)
        XCTAssertEqual(evicted, ["beta runs there now"])
        XCTAssertNotNil(miner.snapshot(of: first.templateID))
    }

    func testRestoredStateContinuesExactlyAsTheOriginal() throws {
        let lines = (0..<400).map { i -> String in
            switch i % 5 {
            case 0: return "Accepted password for user\(i % 7) from 10.0.\(i % 3).\(i) port \(1000 + i) ssh2"
            case 1: return "VM \(["Started", "Paused", "Resumed"][i % 3]) (Lifecycle Event)"
            case 2: return "Invalid user \(["admin", "oracle", "test", "guest", "pi"][i % 5 == 2 ? (i / 5) % 5 : 0]) from 1.2.3.\(i % 250)"
            case 3: return "worker \(i % 4) finished task \(i) in \(i * 3) ms"
            default: return "session closed for user=\(["root", "news"][i % 2])"
            }
        }
        let config = TemplateMinerConfig(maxTemplates: 4)
        let original = try TemplateMiner(config: config)
        for line in lines[..<200] { _ = original.add(line) }
        var w = StateWriter()
        original.store.encode(to: &w)
        var r = StateReader(w.bytes)
        let restored = try TemplateMiner(config: config)
        restored.store = try TemplateStore.decode(from: &r)
        XCTAssertTrue(r.isAtEnd)
        XCTAssertEqual(restored.allTemplates, original.allTemplates)
        for line in lines[200...] {
            XCTAssertEqual(restored.add(line), original.add(line), line)
            XCTAssertEqual(restored.lastEventTemplate(), original.lastEventTemplate())
        }
        XCTAssertEqual(restored.allTemplates, original.allTemplates)

        var truncated = StateReader(Array(w.bytes.dropLast(3)))
        XCTAssertThrowsError(try TemplateStore.decode(from: &truncated))
    }

    func testLogFormatsFollowLoghubSyntax() throws {
        let format = try LogFormat(#"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>"#)
        var line = "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown"
        let fields = line.withUTF8 { format.fieldValues(of: $0) }
        XCTAssertEqual(fields, ["Jun", "14", "15:16:01", "combo", "sshd(pam_unix)", "19939", "check pass; user unknown"])
        var other = "Jun 14 15:16:01 combo kernel: a message"
        XCTAssertEqual(other.withUTF8 { format.fieldValues(of: $0) }?.last, "a message")
        var bad = "not a log line"
        XCTAssertNil(bad.withUTF8 { format.content(of: $0) })
        XCTAssertThrowsError(try LogFormat("<Date> <Time>")) { XCTAssertTrue("\($0)".contains("no <Content>")) }
    }
}
