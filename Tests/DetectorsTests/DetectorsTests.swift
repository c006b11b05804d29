import XCTest
@testable import Detectors
final class DetectorsPlaceholderTests: XCTestCase { func testModuleLinks() { _ = DetectorsModule.self } }
