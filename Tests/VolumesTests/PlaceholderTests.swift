import XCTest
final class VolumesPlaceholderTests: XCTestCase { func testNothing() {} }
