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

/// `harness bench --interleave` reports savings by their median and quartiles.
final class BenchQuantileTests: XCTestCase {
    func testQuantilesInterpolateBetweenSortedNeighbours() {
        let values = [-0.1, 0.1, 0.2, 0.4]
        XCTAssertEqual(Benchmarks.quantile(values, 0.5), 0.15, accuracy: 1e-12)
        XCTAssertEqual(Benchmarks.quantile(values, 0.25), 0.05, accuracy: 1e-12)
        XCTAssertEqual(Benchmarks.quantile(values, 0.75), 0.25, accuracy: 1e-12)
        XCTAssertEqual(Benchmarks.quantile(values, 0), -0.1)
        XCTAssertEqual(Benchmarks.quantile(values, 1), 0.4)
        XCTAssertEqual(Benchmarks.quantile([3], 0.75), 3)
        XCTAssertTrue(Benchmarks.quantile([], 0.5).isNaN)
    }
}
