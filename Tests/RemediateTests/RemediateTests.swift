import XCTest
@testable import Remediate
final class RemediatePlaceholderTests: XCTestCase { func testModuleLinks() { _ = RemediateModule.self } }
