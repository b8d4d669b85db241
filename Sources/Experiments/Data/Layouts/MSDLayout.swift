import Foundation

/// Layout `msd`: `dataset.json` lists the training pairs; `imagesTr/` and `labelsTr/` hold them.
///
/// Reported as skipped (never fatal): a listed pair whose image or label file is missing; a file in
/// `imagesTr/` or `labelsTr/` that dataset.json does not list (e.g. `hippocampus_118.nii.gz`, which also
/// has no label); a file that is not a NIfTI/ANALYZE file at all (`.DS_Store`). Refused (an error): an
/// entry pointing outside the root, unless `allow_outside_root`.
enum MSDLayout {
    private struct Index: Decodable {
        struct Pair: Decodable {
            var image: String?
            var label: String?
        }
        var training: [Pair]?
    }

    static func scan(_ spec: DatasetSpec, root: DataRoot) throws -> (cases: [CaseEntry], skipped: [SkippedFile]) {
        let indexPath = try root.resolve("dataset.json", source: "the data root")
        guard DataRoot.isFile(indexPath) else {
            throw DataError.missingIndex(dataset: spec.name, path: indexPath, what: "dataset.json")
        }
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: indexPath)))
        } catch {
            throw DataError.badIndex(dataset: spec.name, path: indexPath, reason: Self.reason(error))
        }
        guard let training = index.training else {
            throw DataError.badIndex(dataset: spec.name, path: indexPath, reason: "it has no \"training\" list")
        }

        var cases: [CaseEntry] = []
        var skipped: [SkippedFile] = []
        var used = Set<String>()
        var seen: [String: String] = [:]
        for (n, pair) in training.enumerated() {
            guard let imageEntry = pair.image, let labelEntry = pair.label else {
                throw DataError.badIndex(
                    dataset: spec.name, path: indexPath, reason: "training[\(n)] needs both \"image\" and \"label\"")
            }
            let image = try root.resolve(imageEntry, source: "dataset.json training[\(n)].image")
            let label = try root.resolve(labelEntry, source: "dataset.json training[\(n)].label")
            used.formUnion([image, label])
            guard DataRoot.isFile(image) else {
                skipped.append(SkippedFile(path: root.relative(image), reason: "listed in dataset.json, but the image file is missing"))
                continue
            }
            guard DataRoot.isFile(label) else {
                skipped.append(SkippedFile(
                    path: root.relative(image), reason: "no label: \(root.relative(label)) (listed in dataset.json) is missing"))
                continue
            }
            let id = ImageFileName.stem((image as NSString).lastPathComponent)
            if let first = seen[id] {
                throw DataError.duplicateCase(dataset: spec.name, id: id, first: first, second: root.relative(image))
            }
            seen[id] = root.relative(image)
            cases.append(CaseEntry(id: id, source: .files(image: image, label: label)))
        }

        // Files in the two folders that the index does not account for.
        let labelFolder = root.path + "/labelsTr"
        for folder in ["imagesTr", "labelsTr"] {
            let path = root.path + "/" + folder
            for name in DataRoot.listing(path) {
                let file = path + "/" + name
                guard !used.contains(file), !DataRoot.isDirectory(file) else { continue }
                let relative = folder + "/" + name
                if !ImageFileName.isImage(name) {
                    skipped.append(SkippedFile(path: relative, reason: "not a NIfTI file"))
                } else if ImageFileName.isPairData(name), Self.headerUsed(for: file, in: used) {
                    continue   // the .img half of a listed .hdr
                } else if folder == "imagesTr" {
                    let hasLabel = DataRoot.isFile(labelFolder + "/" + name)
                    skipped.append(SkippedFile(
                        path: relative,
                        reason: "not listed in dataset.json" + (hasLabel ? "" : " and has no label (labelsTr/\(name) is missing)")))
                } else {
                    skipped.append(SkippedFile(path: relative, reason: "label not listed in dataset.json"))
                }
            }
        }
        return (cases, skipped)
    }

    static func headerUsed(for pairData: String, in used: Set<String>) -> Bool {
        let base = ImageFileName.stem(pairData)
        return used.contains(base + ".hdr") || used.contains(base + ".hdr.gz")
    }

    static func reason(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return "not valid JSON: \(context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription)"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
                return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
            @unknown default: return "\(decoding)"
            }
        }
        return "\(error.localizedDescription)"
    }
}
