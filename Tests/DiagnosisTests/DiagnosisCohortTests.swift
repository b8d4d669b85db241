import Diagnosis
import Foundation
import XCTest
import Experiments

final class DiagnosisCohortTests: XCTestCase {
    func testDeterministicAndPlausible() {
        let cohort = SyntheticCohort.adniLike
        let a = cohort.generate(seed: 2024)
        XCTAssertEqual(a, cohort.generate(seed: 2024))
        XCTAssertNotEqual(a, cohort.generate(seed: 2025))
        XCTAssertEqual(a.count, 650)
        XCTAssertEqual(Set(a.map(\.id)).count, a.count)

        func mean(_ group: ClinicalGroup, _ value: (Subject) -> Double) -> Double {
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
        func sd(_ group: ClinicalGroup, _ value: (Subject) -> Double) -> Double {
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
