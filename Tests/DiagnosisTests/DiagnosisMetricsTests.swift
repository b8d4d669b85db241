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

final class DiagnosisCohortTests: XCTestCase {
    func testDeterministicAndPlausible() {
        let cohort = SyntheticCohort.adniLike
        let a = cohort.generate(seed: 2024)
        XCTAssertEqual(a, cohort.generate(seed: 2024))
        XCTAssertNotEqual(a, cohort.generate(seed: 2025))
        XCTAssertEqual(a.count, 650)
        XCTAssertEqual(Set(a.map(\.id)).count, a.count)

        func mean(_ group: Diagnosis, _ value: (Subject) -> Double) -> Double {
            let members = a.filter { $0.diagnosis == group }
            return members.reduce(0) { $0 + value($1) } / Double(members.count)
        }
        // Bilateral volume adjusted to age 75 (EMCI subjects are younger, which hides their small loss).
        let total = { (s: Subject) in (s.leftHippocampus + s.rightHippocampus) / (1 - 0.0085 * (s.age - 75)) }
        let cn = mean(.CN, total), emci = mean(.EMCI, total), lmci = mean(.LMCI, total), ad = mean(.AD, total)
        print(String(format: "synthetic cohort mean bilateral hippocampus at age 75 (mm³): CN %.0f, EMCI %.0f, LMCI %.0f, AD %.0f (AD %.1f %% below CN)",
                     cn, emci, lmci, ad, 100 * (1 - ad / cn)))
        XCTAssertGreaterThan(cn, emci)
        XCTAssertGreaterThan(emci, lmci)
        XCTAssertGreaterThan(lmci, ad)
        XCTAssertEqual(1 - ad / cn, 0.235, accuracy: 0.04)  // Shi et al. 2009: 23–24 %

        // Effect size of raw left volume, AD vs CN (Shi et al. 2009: d = 1.60 left).
        func sd(_ group: Diagnosis, _ value: (Subject) -> Double) -> Double {
            let members = a.filter { $0.diagnosis == group }
            let m = mean(group, value)
            return (members.reduce(0) { $0 + (value($1) - m) * (value($1) - m) } / Double(members.count - 1)).squareRoot()
        }
        let left = { (s: Subject) in s.leftHippocampus }
        let d = (mean(.CN, left) - mean(.AD, left)) / ((sd(.CN, left) * sd(.CN, left) + sd(.AD, left) * sd(.AD, left)) / 2).squareRoot()
        print(String(format: "AD vs CN left hippocampus: Cohen's d %.2f; CN SD %.1f %% of the CN mean", d, 100 * sd(.CN, left) / mean(.CN, left)))
        XCTAssertEqual(d, 1.6, accuracy: 0.35)
        XCTAssertLessThan(mean(.CN) { $0.leftHippocampus }, mean(.CN) { $0.rightHippocampus })  // L < R
        XCTAssertTrue(a.filter { $0.diagnosis == .AD }.allSatisfy { (20...26).contains($0.mmse) })
        XCTAssertTrue(a.filter { $0.diagnosis != .AD }.allSatisfy { (24...30).contains($0.mmse) })
        XCTAssertTrue(a.allSatisfy { (55...90).contains($0.age) && $0.leftHippocampus > 0 && $0.intracranialVolume > 0 })
        XCTAssertEqual(mean(.CN) { Double($0.mmse) }, 29.1, accuracy: 0.3)
        XCTAssertEqual(mean(.AD) { Double($0.mmse) }, 23.3, accuracy: 0.4)
    }

    func testADVersusCNFromReferenceVolumesIsWellAboveChance() throws {
        let subjects = SyntheticCohort.adniLike.generate(seed: 2024)
        let task = DiagnosisTask.adVersusCN
        let (x, y, _) = task.select(subjects, features: DiagnosisFeature.volumesAndDemographics)
        let folds = try StratifiedKFold(folds: 5, repeats: 5, seed: 11).split(labels: y)
        let chance = Double(max(y.filter { $0 == 0 }.count, y.filter { $0 == 1 }.count)) / Double(y.count)
        for classifier in [LinearClassifier.logisticRegression(c: 1), .linearSVM(c: 1)] {
            let result = try crossValidate(features: x, labels: y, folds: folds, classifier: classifier)
            print("AD vs CN, volumes + demographics, \(result.summary) (majority-class rate \(String(format: "%.3f", chance)))")
            XCTAssertGreaterThan(result.accuracy.mean, chance + 0.15)
            XCTAssertGreaterThan(result.balancedAccuracy.mean, 0.75)
            XCTAssertGreaterThan(result.auc.mean, 0.85)
        }
        let (xm, ym, _) = task.select(subjects, features: DiagnosisFeature.volumesDemographicsAndMMSE)
        let withMMSE = try crossValidate(features: xm, labels: ym, folds: folds, classifier: .logisticRegression(c: 1))
        print("AD vs CN, volumes + demographics + MMSE, \(withMMSE.summary)")
        XCTAssertGreaterThan(withMMSE.accuracy.mean, 0.93)

        let (xe, ye, _) = DiagnosisTask.lmciVersusEMCI.select(subjects, features: DiagnosisFeature.volumesAndDemographics)
        let emci = try crossValidate(features: xe, labels: ye,
                                     folds: try StratifiedKFold(folds: 5, repeats: 5, seed: 11).split(labels: ye),
                                     classifier: .logisticRegression(c: 1))
        print("LMCI vs EMCI, volumes + demographics, \(emci.summary)")
        XCTAssertGreaterThan(emci.auc.mean, 0.55)
    }

    func testDegradedVolumesDoNotClassifyBetter() throws {
        let subjects = SyntheticCohort.adniLike.generate(seed: 99)
        // A poor segmentation: each volume off by a random 20 % (SD), as from large boundary errors.
        var state: UInt64 = 1
        func gaussian() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u1 = max(Double(state >> 11) * 0x1p-53, 1e-300)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u2 = Double(state >> 11) * 0x1p-53
            return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        }
        let degraded = subjects.map { s -> Subject in
            var d = s
            d.leftHippocampus *= 1 + 0.2 * gaussian()
            d.rightHippocampus *= 1 + 0.2 * gaussian()
            return d
        }
        let task = DiagnosisTask.adVersusCN
        let (x, y, _) = task.select(subjects, features: DiagnosisFeature.volumesAndDemographics)
        let (xd, yd, _) = task.select(degraded, features: DiagnosisFeature.volumesAndDemographics)
        XCTAssertEqual(y, yd)
        let folds = try StratifiedKFold(folds: 5, repeats: 5, seed: 5).split(labels: y)
        let reference = try crossValidate(features: x, labels: y, folds: folds, classifier: .logisticRegression(c: 1))
        let poor = try crossValidate(features: xd, labels: yd, folds: folds, classifier: .logisticRegression(c: 1))
        print(String(format: "AD vs CN: reference volumes accuracy %.3f AUC %.3f; degraded volumes accuracy %.3f AUC %.3f",
                     reference.accuracy.mean, reference.auc.mean, poor.accuracy.mean, poor.auc.mean))
        XCTAssertLessThanOrEqual(poor.accuracy.mean, reference.accuracy.mean)
        XCTAssertLessThan(poor.auc.mean, reference.auc.mean)
    }
}
