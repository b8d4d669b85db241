import XCTest
final class HarnessPlaceholderTests: XCTestCase { func testNothing() {} }
