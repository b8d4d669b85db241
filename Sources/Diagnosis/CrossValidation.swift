import Experiments
import Foundation
import Tensors  // RandomGenerator only: the project's one documented seeded generator

/// One train/test split of a (repeated) cross-validation. Indices are ascending row numbers.
public struct CrossValidationFold: Sendable, Equatable, Codable {
    public var repeatIndex: Int
    public var foldIndex: Int
    public var train: [Int]
    public var test: [Int]

    public init(repeatIndex: Int, foldIndex: Int, train: [Int], test: [Int]) {
        self.repeatIndex = repeatIndex
        self.foldIndex = foldIndex
        self.train = train
        self.test = test
    }

    /// A fold given by its test rows; training is every other row of `0..<count`.
    public init(repeatIndex: Int, foldIndex: Int, test: [Int], count: Int) {
        let held = Set(test)
        self.init(repeatIndex: repeatIndex, foldIndex: foldIndex,
                  train: (0..<count).filter { !held.contains($0) }, test: test.sorted())
    }
}

/// Repeated stratified k-fold cross-validation with our own deterministic, documented assignment
/// (it does not reproduce scikit-learn's shuffling; fixtures that compare with sklearn carry their folds).
///
/// For repeat r, a generator `RandomGenerator(seed: seed, stream: "stratified-kfold/repeat-r")`:
/// 1. the rows of each class, in ascending label order and ascending row order within a class, are
///    shuffled by Fisher–Yates (from the last position down; position i swaps with a uniform j in 0...i,
///    drawn from `next()` by rejection so it is unbiased);
/// 2. the shuffled class lists are concatenated (label 0's first), and the row at position p of that
///    list goes to fold p mod k.
/// So every fold holds ⌊n_c/k⌋ or ⌈n_c/k⌉ rows of each class c, fold sizes differ by at most one, and
/// the same seed gives the same folds on every machine.
public struct StratifiedKFold: Sendable, Equatable, Codable {
    public var folds: Int
    public var repeats: Int
    public var seed: UInt64

    public init(folds: Int = 5, repeats: Int = 1, seed: UInt64) {
        self.folds = folds
        self.repeats = repeats
        self.seed = seed
    }

    /// `repeats × folds` splits, repeat-major. Every class needs at least `folds` rows.
    public func split(labels: [Int]) throws -> [CrossValidationFold] {
        guard folds >= 2 else { throw DiagnosisError.invalidInput("cross-validation needs at least 2 folds, not \(folds)") }
        guard repeats >= 1 else { throw DiagnosisError.invalidInput("cross-validation needs at least 1 repeat, not \(repeats)") }
        let classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else {
            throw DiagnosisError.singleClass("cross-validation needs two classes; the labels hold only \(classes)")
        }
        let members = classes.map { label in labels.indices.filter { labels[$0] == label } }
        for (label, rows) in zip(classes, members) where rows.count < folds {
            throw DiagnosisError.invalidInput(
                "class \(label) has \(rows.count) subjects, fewer than the \(folds) folds; use fewer folds or more subjects")
        }
        var splits: [CrossValidationFold] = []
        for r in 0..<repeats {
            var generator = RandomGenerator(seed: seed, stream: "stratified-kfold/repeat-\(r)")
            var assignment = [Int](repeating: 0, count: labels.count)
            var position = 0
            for var rows in members {
                for i in stride(from: rows.count - 1, to: 0, by: -1) {
                    rows.swapAt(i, uniformIndex(upTo: i + 1, using: &generator))
                }
                for row in rows {
                    assignment[row] = position % folds
                    position += 1
                }
            }
            for f in 0..<folds {
                splits.append(CrossValidationFold(
                    repeatIndex: r, foldIndex: f,
                    train: labels.indices.filter { assignment[$0] != f },
                    test: labels.indices.filter { assignment[$0] == f }))
            }
        }
        return splits
    }
}

/// A uniform integer in 0..<bound by rejection: draws below 2⁶⁴ mod bound are redrawn.
func uniformIndex(upTo bound: Int, using generator: inout RandomGenerator) -> Int {
    let b = UInt64(bound)
    let threshold = (0 &- b) % b  // 2⁶⁴ mod b
    while true {
        let draw = generator.next()
        if draw >= threshold { return Int(draw % b) }
    }
}

/// What one fold produced.
public struct FoldResult: Sendable, Equatable, Codable {
    public var fold: CrossValidationFold
    public var standardizer: Standardizer
    /// In standardised feature space.
    public var model: LinearModel
    /// Decision values of the test rows, in `fold.test` order.
    public var testScores: [Double]
    public var metrics: BinaryClassificationMetrics
}

/// Cross-validated performance: per fold, and mean ± SD over folds (cross_val_score's convention).
public struct CrossValidationResult: Sendable, Equatable, Codable {
    public var classifier: LinearClassifier
    public var folds: [FoldResult]

    public var accuracy: MetricSummary { MetricSummary(folds.map { $0.metrics.accuracy }) }
    public var balancedAccuracy: MetricSummary { MetricSummary(folds.map { $0.metrics.balancedAccuracy }) }
    public var sensitivity: MetricSummary { MetricSummary(folds.map { $0.metrics.sensitivity }) }
    public var specificity: MetricSummary { MetricSummary(folds.map { $0.metrics.specificity }) }
    public var auc: MetricSummary { MetricSummary(folds.map { $0.metrics.auc }) }
    /// Summed over all folds of all repeats (each row counted once per repeat).
    public var confusion: ConfusionMatrix { folds.reduce(ConfusionMatrix()) { $0 + $1.metrics.confusion } }

    public var summary: String {
        func show(_ name: String, _ m: MetricSummary) -> String { String(format: "%@ %.3f ± %.3f", name, m.mean, m.standardDeviation) }
        return "\(classifier): " + [show("accuracy", accuracy), show("balanced accuracy", balancedAccuracy),
                                     show("sensitivity", sensitivity), show("specificity", specificity),
                                     show("AUC", auc)].joined(separator: ", ")
            + " over \(folds.count) folds; confusion [[TN, FP], [FN, TP]] = \(confusion.rows)"
    }
}

/// Fits `classifier` on each fold's training rows — standardised with statistics of those rows only —
/// and scores its test rows.
public func crossValidate(features: [[Double]], labels: [Int], folds: [CrossValidationFold],
                          classifier: LinearClassifier) throws -> CrossValidationResult {
    guard features.count == labels.count else {
        throw DiagnosisError.invalidInput("\(features.count) feature rows for \(labels.count) labels")
    }
    var results: [FoldResult] = []
    for fold in folds {
        guard (fold.train + fold.test).allSatisfy({ features.indices.contains($0) }) else {
            throw DiagnosisError.invalidInput("fold \(fold.repeatIndex)/\(fold.foldIndex) indexes a row outside 0..<\(features.count)")
        }
        let standardizer = try Standardizer(fitting: fold.train.map { features[$0] })
        let model = try classifier.fit(fold.train.map { standardizer.transform(features[$0]) }, fold.train.map { labels[$0] })
        let scores = fold.test.map { model.decision(standardizer.transform(features[$0])) }
        results.append(FoldResult(fold: fold, standardizer: standardizer, model: model, testScores: scores,
                                  metrics: BinaryClassificationMetrics(labels: fold.test.map { labels[$0] }, scores: scores)))
    }
    return CrossValidationResult(classifier: classifier, folds: results)
}

/// Errors of the diagnosis experiments: one line, saying what is wrong and what to do.
public enum DiagnosisError: Error, CustomStringConvertible, Equatable {
    case invalidInput(String)
    case singleClass(String)
    case solverFailed(String)

    public var description: String {
        switch self {
        case .invalidInput(let message): "diagnosis: invalid input: \(message)"
        case .singleClass(let message): "diagnosis: \(message)"
        case .solverFailed(let message): "diagnosis: \(message)"
        }
    }
}
