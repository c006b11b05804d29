@testable import Detectors
import Foundation
import VigilTestSupport
import XCTest

/// Masks that cannot match across whitespace run token by token (`TokenMask`); they must find
/// exactly what running them over whole messages finds.
final class TokenMaskTests: XCTestCase {
    func testTokenLocalPatternsAreTheOnesThatCannotSeeBeyondAToken() {
        let local = [
            #"blk_-?\d+"#, #"(\d+\.){3}\d+(:\d+)?"#, #"\b[KGTM]?B\b"#, #"([\w-]+\.){2,}[\w-]+"#,
            #"(/|)(\d+\.){3}\d+(:\d+)?"#, #"core\.\d+"#, #"=\d+"#, #"\d{2}:\d{2}:\d{2}"#,
            #"((\d+\.){3}\d+,?)+"#, #"\d+"#, #"(?:ab|cd)+"#, #"[!-~]+"#, #"[a-]x"#, #"\S+"#, #"\/\\"#,
        ]
        let notLocal = [
            #"/.+?\s"#, #"<\d+\ssec"#, #"0x.*?\s"#, #"a b"#, "a\tb", #"[^a]"#, #"[\w ]"#, #"[ -~]"#,
            #"\x20"#, #"(a)\1"#, #"(?<=user )\w+"#, #"(?=x)y"#, #"(?i)abc"#, #"^abc"#, #"abc$"#,
            #"(*UCP)\w+"#, #"[[:alpha:]]+"#, #"\W+"#, #"\D"#, #"\s"#, #"[\s]"#, #"\Qa b\E"#, #"[a"#, #"\"#,
        ]
        for p in local { XCTAssertTrue(TokenMask.isTokenLocal(p), p) }
        for p in notLocal { XCTAssertFalse(TokenMask.isTokenLocal(p), p) }
    }

    func testTokenByTokenFindsWhatWholeMessagesFind() throws {
        let lines = [
            "Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6:50010",
            "PacketResponder 1 for block blk_38865049064139660 terminating",
            "10.11.10.1 \"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2477829",
            "Found block rdd_42_20 locally, 4.0 KB stored as bytes in memory (estimated size 2.1 MB, free 317.4 MB)",
            "Connection from 1.2.3.4 port 22 on host-1.example.com; core.1234 =56 at 12:30:45 B KB",
            "  leading\tand\ttrailing   whitespace  10.0.0.1  ",
            "utf-8 bytes: caf\u{E9} 1.2.3.4\u{2026} na\u{EF}ve 00:11:22 \u{1F600}=9",
            "a.b.c 1.2.3 1.2.3.4.5.6.7 x=1=2 blk_1blk_2 ==3",
            "",
        ]
        var corpus = lines.map { Array($0.utf8) }
        // Random printable lines (fixed seed): digits, dots and word characters in runs.
        var rng = SeededRandom(seed: 7)
        let alphabet = Array("0123456789.:=_-/abcKGTMB ".utf8) + [0x09, 0xC3, 0xA9]
        for _ in 0..<2_000 {
            corpus.append((0..<Int(rng.next() % 60)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        corpus += try sharedLoghubContents()
        let settingsMasks = [
            #"blk_-?\d+"#, #"(\d+\.){3}\d+(:\d+)?"#, #"\b[KGTM]?B\b"#, #"([\w-]+\.){2,}[\w-]+"#,
            #"(/|)(\d+\.){3}\d+(:\d+)?"#, #"core\.\d+"#, #"=\d+"#, #"\d{2}:\d{2}:\d{2}"#,
            #"((\d+\.){3}\d+,?)+"#, #"/.+?\s"#, #"\d+"#,
        ]
        let regexes = try settingsMasks.map { try PCRERegex($0) }
        let byToken = LogTokenizer(masks: regexes, byToken: true)
        let whole = LogTokenizer(masks: regexes, byToken: false)
        for line in corpus {
            line.withUnsafeBufferPointer { p in
                XCTAssertEqual(byToken.maskRanges(in: p), whole.maskRanges(in: p), String(decoding: line, as: UTF8.self))
            }
        }
    }

    /// The contents of the shared Loghub logs when they are here (none otherwise).
    private func sharedLoghubContents() throws -> [[UInt8]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data/loghub-2k").standardized
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        var lines: [[UInt8]] = []
        for name in names.sorted() {
            guard let data = FileManager.default.contents(atPath: root.appendingPathComponent("\(name)/\(name)_2k.log").path) else { continue }
            lines += data.split(separator: UInt8(ascii: "\n")).map { Array($0) }
        }
        return lines
    }
}
