import Diagnosis
import Foundation
import XCTest
import Experiments

/// Logistic regression and linear SVM against scikit-learn on the same data and folds
/// (Fixtures/diagnosis-sklearn.json, made by scripts/fixtures/make_diagnosis_fixture.py).
final class DiagnosisSklearnTests: XCTestCase {
    struct Fixture: Decodable {
        struct Fold: Decodable {
            var repeatIndex: Int
            var foldIndex: Int
            var test: [Int]
            enum CodingKeys: String, CodingKey { case repeatIndex = "repeat", foldIndex = "fold", test }
        }
        struct Expected: Decodable {
            var coef: [Double]
            var intercept: Double
            var accuracy: Double
            var balancedAccuracy: Double
            var sensitivity: Double
            var specificity: Double
            var auc: Double
            var confusion: [[Int]]
            enum CodingKeys: String, CodingKey {
                case coef, intercept, accuracy, balancedAccuracy = "balanced_accuracy", sensitivity, specificity, auc, confusion
            }
        }
        struct Run: Decodable {
            var c: Double
            var folds: [Expected]
            var meanAccuracy: Double
            enum CodingKeys: String, CodingKey { case c = "C", folds, meanAccuracy = "mean_accuracy" }
        }
        var featureNames: [String]
        var x: [[Double]]
        var y: [Int]
        var folds: [Fold]
        var logisticRegression: [Run]
        var linearSVM: [Run]
        enum CodingKeys: String, CodingKey {
            case featureNames = "feature_names", x = "X", y, folds
            case logisticRegression = "logistic_regression", linearSVM = "linear_svm"
        }
    }

    static func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/diagnosis-sklearn.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Runs every C of one classifier; returns the largest |Δ| of coefficients/intercepts and of accuracies.
    func compare(_ runs: [Fixture.Run], _ fixture: Fixture, make: (Double) -> LinearClassifier) throws -> (Double, Double) {
        let folds = fixture.folds.map {
            CrossValidationFold(repeatIndex: $0.repeatIndex, foldIndex: $0.foldIndex, test: $0.test, count: fixture.y.count)
        }
        XCTAssertEqual(folds.count, 10)
        var worstCoefficient = 0.0, worstAccuracy = 0.0
        for run in runs {
            let result = try crossValidate(features: fixture.x, labels: fixture.y, folds: folds, classifier: make(run.c))
            XCTAssertEqual(result.folds.count, run.folds.count)
            for (mine, theirs) in zip(result.folds, run.folds) {
                XCTAssertTrue(mine.model.converged)
                let deltas = zip(mine.model.coefficients + [mine.model.intercept], theirs.coef + [theirs.intercept]).map { abs($0 - $1) }
                worstCoefficient = max(worstCoefficient, deltas.max() ?? .infinity)
                worstAccuracy = max(worstAccuracy, abs(mine.metrics.accuracy - theirs.accuracy))
                XCTAssertEqual(mine.metrics.balancedAccuracy, theirs.balancedAccuracy, accuracy: 1e-12)
                XCTAssertEqual(mine.metrics.sensitivity ?? .nan, theirs.sensitivity, accuracy: 1e-12)
                XCTAssertEqual(mine.metrics.specificity ?? .nan, theirs.specificity, accuracy: 1e-12)
                XCTAssertEqual(mine.metrics.auc ?? .nan, theirs.auc, accuracy: 1e-9)
                XCTAssertEqual(mine.metrics.confusion.rows, theirs.confusion)
            }
            worstAccuracy = max(worstAccuracy, abs(result.accuracy.mean - run.meanAccuracy))
            print("  \(result.classifier): CV accuracy \(result.accuracy.mean) (sklearn \(run.meanAccuracy))")
        }
        return (worstCoefficient, worstAccuracy)
    }

    func testLogisticRegressionMatchesSklearn() throws {
        let fixture = try Self.loadFixture()
        let (coefficients, accuracy) = try compare(fixture.logisticRegression, fixture) { .logisticRegression(c: $0) }
        print(String(format: "logistic regression vs sklearn: max |Δ| coefficients/intercept %.2e, accuracy %.2e", coefficients, accuracy))
        XCTAssertLessThan(coefficients, 1e-4)
        XCTAssertLessThan(accuracy, 1e-4)
    }

    func testLinearSVMMatchesSklearn() throws {
        let fixture = try Self.loadFixture()
        let (coefficients, accuracy) = try compare(fixture.linearSVM, fixture) { .linearSVM(c: $0) }
        print(String(format: "linear SVM vs sklearn SVC(kernel=linear): max |Δ| coefficients/intercept %.2e, accuracy %.2e", coefficients, accuracy))
        XCTAssertLessThan(coefficients, 1e-4)
        XCTAssertLessThan(accuracy, 1e-4)
    }

    func testStandardizerUsesTrainingRowsOnly() throws {
        let fixture = try Self.loadFixture()
        let fold = CrossValidationFold(repeatIndex: 0, foldIndex: 0, test: fixture.folds[0].test, count: fixture.y.count)
        let result = try crossValidate(features: fixture.x, labels: fixture.y, folds: [fold], classifier: .logisticRegression(c: 1))
        let scaler = result.folds[0].standardizer
        let train = fold.train.map { fixture.x[$0] }
        let n = Double(train.count)
        for j in 0..<fixture.featureNames.count {
            let mean = train.reduce(0) { $0 + $1[j] } / n
            let sd = (train.reduce(0) { $0 + ($1[j] - mean) * ($1[j] - mean) } / n).squareRoot()
            XCTAssertEqual(scaler.means[j], mean, accuracy: 1e-9 * max(1, abs(mean)))
            XCTAssertEqual(scaler.scales[j], sd, accuracy: 1e-9 * max(1, sd))
        }
    }
}
