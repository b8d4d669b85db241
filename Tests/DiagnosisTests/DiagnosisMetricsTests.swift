import Diagnosis
import Foundation
import XCTest
import Experiments

final class DiagnosisMetricsTests: XCTestCase {
    func testConfusionAndRates() {
        let labels = [0, 0, 0, 1, 1, 1, 1]
        let scores = [-1.0, 0.5, -0.2, 2, 0.1, -0.3, 0]  // 0 is not > 0: predicted negative
        let m = BinaryClassificationMetrics(labels: labels, scores: scores)
        XCTAssertEqual(m.confusion.rows, [[2, 1], [2, 2]])
        XCTAssertEqual(m.accuracy, 4.0 / 7)
        XCTAssertEqual(m.sensitivity, 0.5)
        XCTAssertEqual(m.specificity!, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(m.balancedAccuracy, (0.5 + 2.0 / 3) / 2, accuracy: 1e-15)
    }

    func testAUCWithAndWithoutTies() {
        XCTAssertEqual(areaUnderROC(labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8]), 0.75)
        // Positives {0.5, 0.9} vs negatives {0.5, 0.2}: 1 tie (½) + 3 wins = 3.5 of 4 pairs.
        XCTAssertEqual(areaUnderROC(labels: [0, 1, 0, 1], scores: [0.5, 0.5, 0.2, 0.9]), 0.875)
        XCTAssertEqual(areaUnderROC(labels: [0, 1, 0, 1], scores: [1, 1, 1, 1]), 0.5)
        XCTAssertEqual(areaUnderROC(labels: [1, 1, 0], scores: [3, 2, 1]), 1)
        XCTAssertNil(areaUnderROC(labels: [1, 1], scores: [3, 2]))
    }

    func testAUCMatchesPairCountingOnRandomData() {
        var state: UInt64 = 12345
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let labels = (0..<300).map { _ in Int(next() % 2) }
        let scores = (0..<300).map { _ in Double(next() % 20) }  // many ties
        var wins = 0.0
        var pairs = 0.0
        for i in labels.indices where labels[i] == 1 {
            for j in labels.indices where labels[j] == 0 {
                pairs += 1
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
            }
        }
        XCTAssertEqual(areaUnderROC(labels: labels, scores: scores)!, wins / pairs, accuracy: 1e-12)
    }
}
