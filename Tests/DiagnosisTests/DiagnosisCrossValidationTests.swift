import Diagnosis
import Foundation
import XCTest
import Experiments

final class DiagnosisCrossValidationTests: XCTestCase {
    let labels = Array(repeating: 0, count: 47) + Array(repeating: 1, count: 23)

    func testDeterministicPerSeed() throws {
        let a = try StratifiedKFold(folds: 5, repeats: 3, seed: 42).split(labels: labels)
        let b = try StratifiedKFold(folds: 5, repeats: 3, seed: 42).split(labels: labels)
        let c = try StratifiedKFold(folds: 5, repeats: 3, seed: 43).split(labels: labels)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertNotEqual(a[0].test, a[5].test, "repeats must reshuffle")
    }

    func testStratifiedAndAPartition() throws {
        let splits = try StratifiedKFold(folds: 5, repeats: 2, seed: 7).split(labels: labels)
        XCTAssertEqual(splits.count, 10)
        for r in 0..<2 {
            let folds = splits.filter { $0.repeatIndex == r }
            XCTAssertEqual(folds.flatMap(\.test).sorted(), Array(labels.indices), "each row tested once per repeat")
            for fold in folds {
                XCTAssertEqual(Set(fold.train).intersection(fold.test), [])
                XCTAssertEqual(fold.train.count + fold.test.count, labels.count)
                let negatives = fold.test.filter { labels[$0] == 0 }.count
                let positives = fold.test.filter { labels[$0] == 1 }.count
                XCTAssertTrue((9...10).contains(negatives), "47 negatives over 5 folds: \(negatives)")
                XCTAssertTrue((4...5).contains(positives), "23 positives over 5 folds: \(positives)")
                XCTAssertTrue((14...14).contains(fold.test.count), "70 rows over 5 folds: \(fold.test.count)")
                // The class ratio of each test fold is within one subject of the whole set's.
                XCTAssertEqual(Double(positives) / Double(fold.test.count), 23.0 / 70, accuracy: 1.0 / 14)
            }
        }
    }

    func testRefusesTooSmallClassesAndSingleClassTraining() {
        XCTAssertThrowsError(try StratifiedKFold(folds: 5, seed: 1).split(labels: [0, 0, 0, 0, 0, 1, 1, 1])) { error in
            XCTAssertTrue("\(error)".contains("fewer than the 5 folds"), "\(error)")
        }
        XCTAssertThrowsError(try StratifiedKFold(folds: 2, seed: 1).split(labels: [1, 1, 1]))
        XCTAssertThrowsError(try LinearClassifier.logisticRegression(c: 1).fit([[1], [2]], [1, 1])) { error in
            guard case .singleClass? = error as? DiagnosisError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try LinearClassifier.linearSVM(c: 1).fit([[1], [.nan]], [0, 1])) { error in
            guard case .invalidInput? = error as? DiagnosisError else { return XCTFail("\(error)") }
        }
    }

    func testSeparableDataAndConstantFeature() throws {
        // Perfectly separable, plus a constant column: both solvers stay finite and classify perfectly.
        let x = (0..<40).map { i -> [Double] in [Double(i), 5, Double(i % 3)] }
        let y = (0..<40).map { $0 < 20 ? 0 : 1 }
        let folds = try StratifiedKFold(folds: 4, repeats: 1, seed: 3).split(labels: y)
        for classifier in [LinearClassifier.logisticRegression(c: 100), .linearSVM(c: 100)] {
            let result = try crossValidate(features: x, labels: y, folds: folds, classifier: classifier)
            XCTAssertGreaterThanOrEqual(result.accuracy.mean, 0.95, result.summary)
            XCTAssertTrue(result.folds.allSatisfy { $0.model.coefficients.allSatisfy(\.isFinite) && $0.model.coefficients[1] == 0 })
        }
    }
}
