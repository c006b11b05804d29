import XCTest
@testable import Ingest
final class IngestPlaceholderTests: XCTestCase { func testModuleLinks() { _ = IngestModule.self } }
