import Foundation
import XCTest
import Experiments
import Yams

/// The data set block of a spec, as users write it in YAML.
final class DataSpecTests: XCTestCase {
    private func decode(_ yaml: String) throws -> [DatasetSpec] {
        try YAMLDecoder().decode([DatasetSpec].self, from: yaml)
    }

    private func message(_ yaml: String) -> String {
        do {
            _ = try decode(yaml)
            return "decoded without error"
        } catch {
            return "\(error)"
        }
    }

    func testTheDocumentedShapesDecode() throws {
        let specs = try decode("""
        - name: msd
          layout: msd
          root: /data/msd-hippocampus
          exclude: [hippocampus_001]
          label_map: {1: 1, 2: 1}
          preprocessing: {normalize: zscore_nonzero, clip_percentiles: null, spacing: null, orientation: RAS, crop_to: null, pad_to: [48, 64, 48], box: null}
          split: {validation: 5, test: 20, seed: 0}
        - name: eadc
          layout: list
          root: /data/eadc
          lists: {train: train.txt, validation: valid.txt, test: test.txt}
          exclude: [sub12, sub33]
        - name: lpba40
          layout: analyze
          root: /data/LPBA40/native_space
          label_map: {select: [165, 166]}
          preprocessing: {spacing: [1, 1, 1], orientation: null, box: {world_min: [-40, -40, -30], world_max: [40, 20, 10]}}
          split: {validation: 0.1, test: 0.2}
        - name: hfh
          layout: pairs
          root: /data/hfh
          images: "*/t1.nii.gz"
          labels: "*/hippocampus.nii.gz"
          allow_outside_root: true
        - name: syn
          layout: synthetic
          synthetic: {kind: hippocampus, style: hfh, subjects: 40, seed: 0}
        """)
        XCTAssertEqual(specs.map(\.layout), [.msd, .list, .analyze, .pairs, .synthetic])
        XCTAssertEqual(specs[0].labelMap, .map([1: 1, 2: 1]))
        XCTAssertEqual(specs[0].preprocessing.padTo, [48, 64, 48])
        XCTAssertEqual(specs[0].preprocessing.orientation, "RAS")
        XCTAssertEqual(specs[0].split, SplitSpec(validation: .count(5), test: .count(20), seed: 0))
        XCTAssertEqual(specs[1].lists, .init(train: "train.txt", validation: "valid.txt", test: "test.txt"))
        XCTAssertEqual(specs[2].labelMap, .select([165, 166]))
        XCTAssertNil(specs[2].preprocessing.orientation, "null keeps the file's orientation")
        XCTAssertEqual(specs[2].preprocessing.box, .world(min: [-40, -40, -30], max: [40, 20, 10]))
        XCTAssertEqual(specs[2].split.validation, .fraction(0.1))
        XCTAssertTrue(specs[3].allowOutsideRoot)
        XCTAssertEqual(specs[4].synthetic, SyntheticSpec(kind: .hippocampus, style: .hfh, subjects: 40, seed: 0))
        // Defaults.
        XCTAssertEqual(specs[1].preprocessing, PreprocessingSpec())
        XCTAssertEqual(specs[1].split, SplitSpec())
        XCTAssertFalse(specs[1].allowOutsideRoot)

        // Encoding and decoding again gives the same specs (cell keys hash the encoded form).
        let json = try JSONEncoder().encode(specs)
        XCTAssertEqual(try JSONDecoder().decode([DatasetSpec].self, from: json), specs)
    }

    func testUnknownKeysAndValuesGetSuggestions() {
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, lable_map: {1: 1}}").contains("did you mean 'label_map'"))
        XCTAssertTrue(message("- {name: a, layout: msdd, root: /x}").contains("did you mean 'msd'"))
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, preprocessing: {normalise: zscore}}").contains("did you mean 'normalize'"))
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, preprocessing: {normalize: zscore_nonzer}}").contains("did you mean 'zscore_nonzero'"))
        XCTAssertTrue(message("- {name: a, layout: synthetic, synthetic: {style: harpp}}").contains("did you mean 'harp'"))
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, label_map: {selct: [1]}}").contains("did you mean 'select'"))
    }

    func testInconsistentSpecsAreRefused() {
        XCTAssertTrue(message("- {name: a, layout: msd}").contains("needs `root:`"))
        XCTAssertTrue(message("- {name: a, layout: pairs, root: /x, images: '*.nii'}").contains("labels"))
        XCTAssertTrue(message("- {name: a, layout: list, root: /x}").contains("lists"))
        XCTAssertTrue(message("- {name: a, layout: analyze, root: /x}").contains("label_map"))
        XCTAssertTrue(message("- {name: a, layout: synthetic}").contains("synthetic:"))
        XCTAssertTrue(message("- {name: a, layout: synthetic, root: /x, synthetic: {}}").contains("does not apply"))
        XCTAssertTrue(message("- {name: 'a b', layout: msd, root: /x}").contains("letters, digits"))
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, preprocessing: {orientation: RAR}}").contains("orientation"))
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, preprocessing: {spacing: [1, 1]}}").contains("3 positive sizes"))
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, split: {test: 2.5}}").contains("neither a count"))
        XCTAssertTrue(message("- {name: a, layout: msd, root: /x, label_map: {}}").contains("empty"))
        XCTAssertTrue(message("- {name: a, layout: synthetic, synthetic: {kind: brats, style: harp}}").contains("style applies"))
    }
}
