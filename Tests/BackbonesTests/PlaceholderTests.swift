import XCTest
final class BackbonesPlaceholderTests: XCTestCase { func testNothing() {} }
