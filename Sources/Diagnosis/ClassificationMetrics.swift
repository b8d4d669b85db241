import Experiments
import Foundation

/// Counts of a binary classification, laid out as scikit-learn's `confusion_matrix(labels=[0, 1])`:
/// rows are the true class, columns the predicted class, `[[tn, fp], [fn, tp]]`.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    public var trueNegatives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public var truePositives = 0

    public init(trueNegatives: Int = 0, falsePositives: Int = 0, falseNegatives: Int = 0, truePositives: Int = 0) {
        self.trueNegatives = trueNegatives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
        self.truePositives = truePositives
    }

    public init(labels: [Int], predictions: [Int]) {
        for (label, prediction) in zip(labels, predictions) {
            switch (label, prediction) {
            case (1, 1): truePositives += 1
            case (1, _): falseNegatives += 1
            case (_, 1): falsePositives += 1
            default: trueNegatives += 1
            }
        }
    }

    public var rows: [[Int]] { [[trueNegatives, falsePositives], [falseNegatives, truePositives]] }
    public var total: Int { trueNegatives + falsePositives + falseNegatives + truePositives }

    public static func + (a: ConfusionMatrix, b: ConfusionMatrix) -> ConfusionMatrix {
        ConfusionMatrix(trueNegatives: a.trueNegatives + b.trueNegatives, falsePositives: a.falsePositives + b.falsePositives,
                        falseNegatives: a.falseNegatives + b.falseNegatives, truePositives: a.truePositives + b.truePositives)
    }
}

/// The metrics of one binary test set. Label 1 is the positive class (AD in AD vs CN, LMCI in EMCI vs LMCI).
public struct BinaryClassificationMetrics: Sendable, Equatable, Codable {
    public var confusion: ConfusionMatrix
    public var accuracy: Double
    /// Mean of the recalls of the classes present (sklearn's `balanced_accuracy_score`).
    public var balancedAccuracy: Double
    /// TP / (TP + FN); nil without positives.
    public var sensitivity: Double?
    /// TN / (TN + FP); nil without negatives.
    public var specificity: Double?
    /// Area under the ROC curve of the scores; nil unless both classes are present.
    public var auc: Double?

    /// `scores` are decision values; `score > threshold` predicts label 1 (sklearn's `predict`).
    public init(labels: [Int], scores: [Double], threshold: Double = 0) {
        precondition(labels.count == scores.count, "\(labels.count) labels for \(scores.count) scores")
        let predictions = scores.map { $0 > threshold ? 1 : 0 }
        let confusion = ConfusionMatrix(labels: labels, predictions: predictions)
        self.confusion = confusion
        let total = Double(confusion.total)
        accuracy = total > 0 ? Double(confusion.truePositives + confusion.trueNegatives) / total : .nan
        let positives = confusion.truePositives + confusion.falseNegatives
        let negatives = confusion.trueNegatives + confusion.falsePositives
        sensitivity = positives > 0 ? Double(confusion.truePositives) / Double(positives) : nil
        specificity = negatives > 0 ? Double(confusion.trueNegatives) / Double(negatives) : nil
        let recalls = [sensitivity, specificity].compactMap { $0 }
        balancedAccuracy = recalls.isEmpty ? .nan : recalls.reduce(0, +) / Double(recalls.count)
        auc = areaUnderROC(labels: labels, scores: scores)
    }
}

/// ROC AUC as the Mann–Whitney statistic: the probability that a random positive scores above a random
/// negative, ties counting one half — computed from mid-ranks, `(R₁ − n₁(n₁+1)/2) / (n₁n₀)`, where R₁ is
/// the rank sum of the positives. Equals sklearn's `roc_auc_score` (trapezoidal ROC) exactly.
/// nil when either class is absent.
public func areaUnderROC(labels: [Int], scores: [Double]) -> Double? {
    let positives = labels.filter { $0 == 1 }.count
    let negatives = labels.count - positives
    guard positives > 0, negatives > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var positiveRankSum = 0.0
    var start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
        let midRank = Double(start + end + 2) / 2  // ranks are 1-based
        for k in start...end where labels[order[k]] == 1 { positiveRankSum += midRank }
        start = end + 1
    }
    let p = Double(positives)
    return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
}

/// Mean and sample standard deviation (n − 1) of a metric over folds; nil values are left out.
public struct MetricSummary: Sendable, Equatable, Codable {
    public var mean: Double
    public var standardDeviation: Double
    public var count: Int

    public init(_ values: [Double?]) {
        let present = values.compactMap { $0 }.filter { !$0.isNaN }
        count = present.count
        mean = present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
        if present.count > 1 {
            let m = mean
            standardDeviation = (present.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(present.count - 1)).squareRoot()
        } else {
            standardDeviation = present.isEmpty ? .nan : 0
        }
    }
}
