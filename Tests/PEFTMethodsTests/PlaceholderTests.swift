import XCTest
final class PEFTMethodsPlaceholderTests: XCTestCase { func testNothing() {} }
