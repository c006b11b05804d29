@testable import Detectors
import XCTest

/// Every token the tokenizer hands the miner is already in normal form: normalising it again
/// changes nothing. Whole parameters (`42`, `(/tmp/x):`, `[10.0.0.1:80]`) skip the normaliser's
/// passes on that promise; this holds the promise to every rule.
final class TokenizerNormalFormTests: XCTestCase {
    func testTokensAreFixedPointsOfTheNormaliser() throws {
        let cores = ["42", "-3.5", "1,234", "10.0.0.1", "10.0.0.1:8080", "/tmp/a/b", "/", "http://x.org/a",
                     "host-1.dc2.example.com", "123e4567-e89b-12d3-a456-426614174000", "blk_-12", "0x1f", "16ms",
                     "user=root", "a.b.c", "core.12", "<*>", "x/<*>", "v2", "ssh2"]
        let wrappers = ["", "(", ")", "[", "]:", "\"", "'", ",", "{(", ");", ":"]
        var messages: [String] = []
        for core in cores {
            for before in wrappers {
                for after in wrappers { messages.append("at \(before)\(core)\(after) end") }
            }
        }
        let tokenizer = LogTokenizer(masks: try [#"(\d+\.){3}\d+"#, #"=\d+"#].map { try PCRERegex($0) })
        var normal = ScratchBuffer<UInt8>(capacity: 64)
        defer { normal.deallocate() }
        for message in messages {
            var m = message
            m.withUTF8 { tokenizer.tokenize($0) }
            for k in 0..<tokenizer.count {
                let token = tokenizer.token(k)
                tokenizer.normalize(token, into: &normal)
                XCTAssertEqual(Array(normal.buffer), Array(token), "\(message): token \(k) '\(String(decoding: token, as: UTF8.self))'")
            }
        }
    }
}
