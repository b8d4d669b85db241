import Foundation
import XCTest
import Experiments

/// Fixed validation/test sets and nested training budgets.
final class DataSplitTests: XCTestCase {
    private func scan(_ count: Int, name: String = "d") -> DatasetScan {
        DatasetScan(dataset: name, cases: (0..<count).map {
            CaseEntry(id: String(format: "case_%03d", $0), source: .files(image: "i\($0)", label: "l\($0)"))
        })
    }

    func testBudgetsAreNestedAndIdenticalAcrossCalls() throws {
        let splits = try DatasetSplits(scan: scan(100), split: SplitSpec(validation: .count(5), test: .count(20), seed: 0))
        XCTAssertEqual(splits.trainingPool.count, 75)
        var previous: [String] = []
        for n in [5, 10, 20, 40] {
            let chosen = try splits.training(.count(n))
            XCTAssertEqual(chosen.count, n)
            XCTAssertEqual(Array(chosen.prefix(previous.count)), previous, "budget \(n) extends the smaller one")
            previous = chosen
        }
        XCTAssertEqual(Array(try splits.training(.all).prefix(40)), previous)
        // The same data set split again (another method, another run seed) gives the same cases.
        let again = try DatasetSplits(scan: scan(100), split: SplitSpec(validation: .count(5), test: .count(20), seed: 0))
        XCTAssertEqual(again, splits)
        // Not simply the sorted order.
        XCTAssertNotEqual(try splits.training(.count(10)), Array(splits.trainingPool.sorted().prefix(10)))
    }

    func testSplitsAreDisjointAndCoverEveryCase() throws {
        for seed: UInt64 in [0, 1, 1000] {
            let splits = try DatasetSplits(scan: scan(60), split: SplitSpec(validation: .fraction(0.1), test: .fraction(0.25), seed: seed))
            XCTAssertEqual(splits.validation.count, 6)
            XCTAssertEqual(splits.test.count, 15)
            let all = splits.validation + splits.test + splits.trainingPool
            XCTAssertEqual(all.count, 60)
            XCTAssertEqual(Set(all).count, 60)
        }
        let a = try DatasetSplits(scan: scan(60), split: SplitSpec(seed: 0))
        let b = try DatasetSplits(scan: scan(60), split: SplitSpec(seed: 1))
        XCTAssertNotEqual(a.test, b.test, "the split seed matters")
    }

    /// Removing a case does not reorder the others (each id's rank has its own stream).
    func testOrderIsStableWhenCasesAreAdded() throws {
        let small = try DatasetSplits(scan: scan(50), split: SplitSpec(validation: .count(0), test: .count(0)))
        let large = try DatasetSplits(scan: scan(80), split: SplitSpec(validation: .count(0), test: .count(0)))
        let kept = Set(small.trainingPool)
        XCTAssertEqual(large.trainingPool.filter(kept.contains), small.trainingPool)
    }

    func testBudgetLargerThanPoolNamesBothNumbers() throws {
        let splits = try DatasetSplits(scan: scan(30, name: "lpba40"), split: SplitSpec(validation: .count(4), test: .count(8)))
        assertDataError(try splits.training(.count(40)), mentions: ["lpba40", "40", "18"]) {
            if case .budgetTooLarge(_, 40, 18) = $0 { return true } else { return false }
        }
        assertDataError(try DatasetSplits(scan: scan(10), split: SplitSpec(validation: .count(4), test: .count(6))),
                        mentions: ["nothing to train"])
        assertDataError(try DatasetSplits(scan: scan(10), split: SplitSpec(validation: .count(4), test: .count(16))),
                        mentions: ["split.test", "16"])
    }

    func testBudgetDecodesNumbersAndAll() throws {
        let decoded = try JSONDecoder().decode([Budget].self, from: Data("[5, 10, \"all\", \"20\"]".utf8))
        XCTAssertEqual(decoded, [.count(5), .count(10), .all, .count(20)])
        XCTAssertThrowsError(try JSONDecoder().decode([Budget].self, from: Data("[0]".utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode([Budget].self, from: Data("[\"most\"]".utf8)))
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([Budget.count(5), .all]), as: UTF8.self), "[5,\"all\"]")
    }

    func testSplitsOfASyntheticDataSetAreTheSameForEveryRun() throws {
        let spec = DatasetSpec(name: "harp", layout: .synthetic, split: SplitSpec(validation: .count(5), test: .count(20), seed: 7),
                               synthetic: SyntheticSpec(style: .harp))
        let first = try Dataset(spec: spec)
        let second = try Dataset(spec: spec)
        XCTAssertEqual(try first.training(.count(20)), try second.training(.count(20)))
        XCTAssertEqual(first.splits.test, second.splits.test)
        XCTAssertEqual(first.splits.trainingPool.count, 110)
    }
}
