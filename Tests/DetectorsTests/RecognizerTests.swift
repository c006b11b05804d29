@testable import Detectors
import VigilTestSupport
import XCTest

/// `Recognizers.isWholeParameter` folds four recognisers into one pass; it must say exactly
/// what they say one after another.
final class RecognizerTests: XCTestCase {
    func testOnePassWholeParameterAgreesWithTheSeparateRecognisers() {
        func separately(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
            Recognizers.isUUID(s) || Recognizers.containsScheme(s) || (s[0] == UInt8(ascii: "/") && s.count > 1)
                || Recognizers.isEndpoint(s) || Recognizers.isHostName(s)
        }
        var tokens = ["10.0.0.1:8080", "host-1.dc2.example.com", "a.b.c", "a1.b.c", "12:30", "12:30:45", "x:80", ":80", "a/b.c1.d",
                      "/tmp/x", "/", "http://x", "a://", "://x", "ab://", "node/1.2.3:50010", "1.2.3.4:5", "1.2.3.4:123456",
                      "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-42661417400g", "a:b:80", "h.1.x:8a"]
        var rng = SeededRandom(seed: 11)
        let alphabet = Array("ab1290.:/-_xZ".utf8)
        for _ in 0..<50_000 {
            tokens.append(String(decoding: (0..<(1 + Int(rng.next() % 16))).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self))
        }
        for t in tokens {
            var bytes = Array(t.utf8)
            bytes.withUnsafeMutableBufferPointer { b in
                let s = UnsafeBufferPointer(b)
                XCTAssertEqual(Recognizers.isWholeParameter(s), separately(s), t)
            }
        }
    }
}
