import Foundation
import XCTest
import TestSupport
import Volumes

/// Reference values from medpy / SimpleITK / DeepMind surface-distance / MONAI for 45 mask pairs
/// (`../shared/fixtures/metrics`, see its README and DEFINITIONS.md). Every case in expected.json is
/// checked, so new cases of the same kinds are picked up without code changes.
final class MetricsFixtureTests: XCTestCase {
    /// Our field ↔ the reference field it must match.
    static let pairs: [(MetricName, String)] = [
        (.dice, "dice"), (.hdMax, "sitk_hd"), (.hd95, "monai_hd95"), (.hd95Medpy, "medpy_hd95"),
        (.assd, "medpy_assd"), (.nsd1mm, "sd_nsd_1mm"),
        (.volumeRefMM3, "gt_volume_mm3"), (.volumePredMM3, "pred_volume_mm3"),
    ]

    static func isRatio(_ name: MetricName) -> Bool { name == .dice || name == .nsd1mm }

    /// README tolerances: ratios 1e-4 relative + 1e-9; distances and volumes 1e-3 relative + 1e-6.
    static func tolerance(_ name: MetricName, reference r: Double) -> Double {
        isRatio(name) ? 1e-4 * abs(r) + 1e-9 : 1e-3 * abs(r) + 1e-6
    }

    func testFixtureCasesMatchReferenceLibraries() throws {
        let fixtures = try SharedData.fixture("metrics")
        let expectedURL = try SharedData.fixture("metrics/expected.json")
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL)) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [String: Any])
        XCTAssertFalse(cases.isEmpty)

        var worst: [MetricName: (error: Double, name: String)] = [:]
        var compared = 0, undefinedMatched = 0
        for name in cases.keys.sorted() {
            let entry = try XCTUnwrap(cases[name] as? [String: Any], name)
            let spacing = try XCTUnwrap(entry["spacing"] as? [Double], name)
            let shape = try XCTUnwrap(entry["shape"] as? [Int], name)
            let files = try XCTUnwrap(entry["files"] as? [String: String], name)
            let values = try XCTUnwrap(entry["values"] as? [String: Any], name)
            let gtVolume = try NIfTI.read(fixtures.appendingPathComponent(try XCTUnwrap(files["gt"], name)))
            let predVolume = try NIfTI.read(fixtures.appendingPathComponent(try XCTUnwrap(files["pred"], name)))
            XCTAssertEqual(gtVolume.spatialShape, shape, name)
            XCTAssertEqual(gtVolume.geometry.spacingMM, spacing, "\(name): header spacing differs from the stored `spacing`")
            let grid = try XCTUnwrap(Grid3D(shape: shape))
            let ours = evaluateBinarySegmentation(
                prediction: predVolume.voxels.map { $0 != 0 }, reference: gtVolume.voxels.map { $0 != 0 },
                grid: grid, spacing: spacing)
            // The Volume entry point (what `harness evaluate` calls) gives the same numbers for "all".
            let viaVolumes = try evaluateSegmentation(prediction: predVolume, reference: gtVolume)
            XCTAssertEqual(viaVolumes.all, ours, name)

            for (metric, field) in Self.pairs {
                let reference = Self.referenceValue(values[field])
                let value = ours[metric]
                switch reference {
                case .finite(let r):
                    guard let h = value else {
                        XCTFail("\(name): \(metric.rawValue) is nil (\(ours.notes[metric] ?? "no note")) but \(field) = \(r)")
                        continue
                    }
                    compared += 1
                    let tolerance = Self.tolerance(metric, reference: r)
                    XCTAssertLessThanOrEqual(abs(h - r), tolerance, "\(name): \(metric.rawValue) = \(h), \(field) = \(r)")
                    let relative = abs(h - r) / max(abs(r), 1e-12)
                    let error = r == 0 ? abs(h) : relative
                    if error > (worst[metric]?.error ?? -1) { worst[metric] = (error, name) }
                case .undefined(let what):
                    // inf / nan / raised in the library ↔ nil with a reason here.
                    XCTAssertNil(value, "\(name): \(metric.rawValue) = \(value.map { "\($0)" } ?? "nil"), but \(field) is \(what)")
                    XCTAssertNotNil(ours.notes[metric], "\(name): nil \(metric.rawValue) without a note")
                    undefinedMatched += 1
                }
            }
        }
        var report = "metric fixtures: \(cases.count) cases, \(compared) finite comparisons, \(undefinedMatched) undefined (null/inf/nan) matched by nil + note\n"
        report += "worst error per metric (relative; absolute where the reference is 0):\n"
        for (metric, field) in Self.pairs {
            if let w = worst[metric] {
                report += "  \(metric.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) ↔ \(field.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(format: "%.3e", w.error))  (\(w.name))\n"
            }
        }
        print(report)
    }

    enum Reference {
        case finite(Double)
        case undefined(String)
    }

    static func referenceValue(_ raw: Any?) -> Reference {
        switch raw {
        case let n as NSNumber: return .finite(n.doubleValue)
        case let s as String: return .undefined(s)  // "inf", "-inf", "nan"
        default: return .undefined("null (the library raised)")
        }
    }
}
