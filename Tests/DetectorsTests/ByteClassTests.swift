@testable import Detectors
import XCTest

/// The byte classes are bit sets written as literals; each must hold exactly its documented bytes.
final class ByteClassTests: XCTestCase {
    func testEveryClassHoldsExactlyItsBytes() {
        let classes: [(String, (UInt8) -> Bool, String)] = [
            ("path delimiter", ByteClass.isPathDelimiter, " \t\r\n,!;:=|\"'[](){}"),
            ("token delimiter", ByteClass.isTokenDelimiter, " \t\r\n,!;:=|\"'[](){}.-+@#$%&"),
            ("wrapper", ByteClass.isWrapper, "()[]{},;:\"'"),
            ("host character", ByteClass.isHostCharacter, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"),
            ("hex", ByteClass.isHex, "0123456789abcdefABCDEF"),
        ]
        for (name, test, members) in classes {
            let expected = Set(members.utf8)
            for b in 0...255 {
                XCTAssertEqual(test(UInt8(b)), expected.contains(UInt8(b)), "\(name): byte \(b)")
            }
        }
    }
}
