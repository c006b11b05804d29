import XCTest
@testable import RCA
final class RCAPlaceholderTests: XCTestCase { func testModuleLinks() { _ = RCAModule.self } }
