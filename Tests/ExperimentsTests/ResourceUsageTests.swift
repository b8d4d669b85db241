@testable import Experiments
import XCTest

/// Peak memory is read from /proc/self/status, whose number is padded to 8 digits: a 16 GB peak has
/// no space after the tab and once read as 0 MB.
final class ResourceUsageTests: XCTestCase {
    func testPeakResidentSizeIsReadAtEveryWidth() {
        XCTAssertEqual(vmHWMKilobytes("VmHWM:\t   81920 kB"), 81920)
        XCTAssertEqual(vmHWMKilobytes("VmHWM:\t16612964 kB"), 16_612_964)
        XCTAssertEqual(vmHWMKilobytes("VmHWM:\t123456789 kB"), 123_456_789)
        XCTAssertNil(vmHWMKilobytes("VmHWM:"))
        XCTAssertGreaterThan(peakResidentMegabytes(), 1, "this process holds more than a megabyte")
    }
}
