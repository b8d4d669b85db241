import Diagnosis
import Foundation
import TestSupport
import XCTest
import Experiments

/// The diagnosis spec: defaults, every section, and located errors (unknown keys with a suggestion).
final class DiagnosisSpecTests: XCTestCase {
    static let packageRoot = SharedData.packageRoot
    var quickstart: String { Self.packageRoot.appendingPathComponent("experiments/quickstart.yaml").path }

    private func issues(_ yaml: String) -> String {
        do {
            _ = try DiagnosisSpecLoader.parse(yaml, file: "diagnosis.yaml", environment: [:])
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testDefaults() throws {
        let spec = try DiagnosisSpecLoader.parse("", file: "diagnosis.yaml")
        XCTAssertEqual(spec.name, "diagnosis")
        guard case .synthetic(let synthetic) = spec.cohort else { return XCTFail("synthetic by default") }
        XCTAssertEqual(synthetic.cohort.generate(seed: synthetic.seed).count, 650)
        XCTAssertEqual(spec.tasks, [.adVersusCN, .lmciVersusEMCI])
        XCTAssertEqual(spec.classifiers, [.logisticRegression(c: 1), .linearSVM(c: 1)])
        XCTAssertEqual(spec.featureSets, [FeatureSet(name: "volumes+demographics", features: DiagnosisFeature.volumesAndDemographics)])
        XCTAssertEqual(spec.crossValidation, StratifiedKFold(folds: 5, repeats: 5, seed: 11))
        XCTAssertEqual(spec.volumes.split, .worldMidline(.fieldOfViewCentre))
        XCTAssertNil(spec.segmentation)
    }

    func testEverySection() throws {
        let yaml = """
        name: full-study
        cohort:
          synthetic: {subjects: 120, seed: 7, style: lpba40}
        volumes: {sides: components, connectivity: 26}
        features:
          volumes: [left_volume, right_volume, icv, age, sex, education]
          with_mmse: [left_volume, right_volume, icv, age, sex, education, mmse]
        icv_normalisation: true
        tasks: [AD_vs_CN, EMCI vs LMCI, {positive: AD, negative: LMCI}]
        classifiers: [logistic, {name: svm, c: 0.5}]
        cross_validation: {folds: 4, repeats: 3, seed: 5}
        segmentation: {spec: \(quickstart), results: /nonexistent/results, budget: 12, methods: [full, lora]}
        """
        let spec = try DiagnosisSpecLoader.parse(yaml, file: "diagnosis.yaml")
        guard case .synthetic(let synthetic) = spec.cohort else { return XCTFail() }
        XCTAssertEqual(synthetic.subjects, 120)
        XCTAssertEqual(synthetic.style, .lpba40)
        XCTAssertEqual(ClinicalGroup.allCases.map { synthetic.cohort[$0].count }, [37, 28, 28, 27])
        XCTAssertEqual(spec.volumes.split, .largestComponents(connectivity: .twentySix))
        XCTAssertEqual(spec.featureSets.map(\.name), ["volumes", "with_mmse"], "file order")
        XCTAssertEqual(spec.effectiveFeatureSets[0].features,
                       [.leftHippocampusPerICV, .rightHippocampusPerICV, .intracranialVolume, .age, .female, .education])
        XCTAssertEqual(spec.tasks, [.adVersusCN, .lmciVersusEMCI, DiagnosisTask(negative: .LMCI, positive: .AD)],
                       "EMCI vs LMCI: the more impaired group is positive")
        XCTAssertEqual(spec.classifiers, [.logisticRegression(c: 1), .linearSVM(c: 0.5)])
        XCTAssertEqual(spec.crossValidation, StratifiedKFold(folds: 4, repeats: 3, seed: 5))
        XCTAssertEqual(spec.segmentation?.methods, ["full", "lora"])
        XCTAssertEqual(spec.segmentation?.budgets, [.count(12)])
        XCTAssertEqual(spec.sweep?.name, "quickstart")

        let metadata = try DiagnosisSpecLoader.parse("""
        cohort:
          metadata: \(quickstart)
          columns: {id: RID, diagnosis: DX}
          diagnosis_map: {SMC: exclude, "MCI to Dementia": AD}
          visit: all
          missing: skip
          masks: "masks/{id}.nii.gz"
        volumes: {sides: hemisphere, midline: 0}
        """, file: "diagnosis.yaml")
        guard case .metadata(let table) = metadata.cohort else { return XCTFail() }
        XCTAssertEqual(table.columns, [.id: "RID", .diagnosis: "DX"])
        XCTAssertEqual(table.diagnosisMap["SMC"], .some(nil))
        XCTAssertEqual(table.diagnosisMap["MCI to Dementia"], .AD)
        XCTAssertNil(table.visit)
        XCTAssertTrue(table.skipIncomplete)
        XCTAssertEqual(metadata.volumes.split, .worldMidline(.x(0)))
    }

    func testUnknownKeysAreLocatedWithASuggestion() {
        let top = issues("name: x\nicv_normalization: true\n")
        XCTAssertTrue(top.contains("diagnosis.yaml:2:20: error: 'icv_normalization':"), top)
        XCTAssertTrue(top.contains("unknown option 'icv_normalization' (did you mean 'icv_normalisation'?)"), top)
        XCTAssertTrue(top.contains("  icv_normalization: true\n" + String(repeating: " ", count: 21) + "^"), "caret snippet: \(top)")

        let nested = issues("cohort:\n  synthetic: {subjects: 100, sead: 3}\n")
        XCTAssertTrue(nested.contains("diagnosis.yaml:2:"), nested)
        XCTAssertTrue(nested.contains("unknown option 'sead' (did you mean 'seed'?)"), nested)

        let cv = issues("cross_validation:\n  folds: 5\n  repeat: 2\n")
        XCTAssertTrue(cv.contains("diagnosis.yaml:3:"), cv)
        XCTAssertTrue(cv.contains("(did you mean 'repeats'?)"), cv)
    }

    func testBadValuesAreLocated() {
        let feature = issues("features: [left_volume, rigth_volume]\n")
        XCTAssertTrue(feature.contains("diagnosis.yaml:1:"), feature)
        XCTAssertTrue(feature.contains("unknown feature 'rigth_volume' (did you mean 'right_volume'?)"), feature)
        let classifier = issues("classifiers: [logistic, svn]\n")
        XCTAssertTrue(classifier.contains("unknown classifier 'svn' (did you mean 'svm'?)"), classifier)
        let task = issues("tasks: [AD vs XX]\n")
        XCTAssertTrue(task.contains("a task is two groups"), task)
        let type = issues("cross_validation: {folds: five}\n")
        XCTAssertTrue(type.contains("diagnosis.yaml:1:") && type.contains("must be an integer, got 'five'"), type)
        let sides = issues("volumes: {sides: hemisphere, connectivity: 26}\n")
        XCTAssertTrue(sides.contains("connectivity applies to `sides: components`"), sides)
        let small = issues("cohort: {synthetic: {subjects: 20}}\ncross_validation: {folds: 10}\n")
        XCTAssertTrue(small.contains("task AD vs CN needs at least 10 AD subjects"), small)
        XCTAssertTrue(small.contains("diagnosis.yaml:"), small)
    }

    func testSegmentationSectionIsChecked() {
        let missing = issues("segmentation: {spec: experiments/nope.yaml}\n")
        XCTAssertTrue(missing.contains("diagnosis.yaml:1:") && missing.contains("sweep spec experiments/nope.yaml does not exist"), missing)
        let method = issues("segmentation:\n  spec: \(quickstart)\n  methods: [full, lorra]\n")
        XCTAssertTrue(method.contains("diagnosis.yaml:3:"), method)
        XCTAssertTrue(method.contains("has no method 'lorra' (did you mean 'lora'?)"), method)
        let budget = issues("segmentation: {spec: \(quickstart), budget: 13}\n")
        XCTAssertTrue(budget.contains("has no budget '13'"), budget)
        let metadata = issues("cohort: {metadata: /nonexistent.csv}\n")
        XCTAssertTrue(metadata.contains("cohort table /nonexistent.csv does not exist"), metadata)
        let template = issues("cohort: {metadata: x.csv, masks: masks/subject.nii.gz}\n")
        XCTAssertTrue(template.contains("the path template must contain {id}"), template)
        let mixed = issues("cohort: {synthetic: {subjects: 100}, masks: \"m/{id}.nii\"}\n")
        XCTAssertTrue(mixed.contains("`masks` belongs to a `metadata:` cohort"), mixed)
    }

    func testTheCommittedSpecLoads() throws {
        let url = Self.packageRoot.appendingPathComponent("experiments/diagnosis.yaml")
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(Self.packageRoot.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let spec = try DiagnosisSpecLoader.load(url)
        XCTAssertEqual(spec.name, "diagnosis")
        XCTAssertEqual(spec.segmentation?.spec, "experiments/quickstart.yaml")
    }
}
