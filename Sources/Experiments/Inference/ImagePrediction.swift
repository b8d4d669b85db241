import Foundation
import Volumes

/// `harness predict`: segments images one by one with a `PredictionModel` and writes each label map
/// as `<out>/<id>.nii.gz` on the image's own grid (shape and affine; reorientation, resampling and
/// cropping undone), then `<out>/volumes.csv`: per image, the voxels and mm³ of each label and the
/// left/right split of the foreground by RAS hemisphere (the columns `harness diagnose` reads).
/// A bad image is reported with its path and the rest still run.
public struct ImagePrediction {
    public struct Row: Sendable {
        public var id: String
        public var image: String
        /// mm³ per class 1..<classes.
        public var labelVolumes: [Double]
        public var hemispheres: HippocampalVolumes
    }

    public let model: PredictionModel
    public let output: URL
    public var log: (String) -> Void = { _ in }

    public init(model: PredictionModel, output: URL, log: @escaping (String) -> Void = { _ in }) {
        self.model = model
        self.output = output
        self.log = log
    }

    /// Image files given directly or found in folders (`.nii`, `.nii.gz`, `.hdr`, sorted), with ids.
    public static func images(_ paths: [String]) throws -> [(id: String, path: String)] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw PredictionError.badInput("\(path): no such file or folder (--images)")
            }
            if isFolder.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { name in
                    !name.hasPrefix(".") && [".nii", ".nii.gz", ".hdr"].contains { name.hasSuffix($0) }
                }.sorted()
                if names.isEmpty { throw PredictionError.badInput("\(path): no .nii, .nii.gz or .hdr images in this folder (--images)") }
                files += names.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        var seen: [String: String] = [:]
        return try files.map { file in
            var id = (file as NSString).lastPathComponent
            for suffix in [".nii.gz", ".nii", ".hdr"] where id.hasSuffix(suffix) { id.removeLast(suffix.count); break }
            if let other = seen.updateValue(file, forKey: id) {
                throw PredictionError.badInput("\(file) and \(other) would both be written as \(id).nii.gz; predict them into separate folders")
            }
            return (id, file)
        }
    }

    /// Segments every image; throws `PredictionError.someFailed` at the end if any failed.
    @discardableResult
    public func run(images: [(id: String, path: String)]) throws -> [Row] {
        let classes = model.pipeline.classes
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        log("predicting \(images.count) image(s) with \(model.description) into \(output.path)")
        var rows: [Row] = []
        var failed = 0
        let started = Date()
        for (n, image) in images.enumerated() {
            do {
                rows.append(try predict(image, classes: classes))
                let elapsed = Date().timeIntervalSince(started)
                let remaining = elapsed / Double(n + 1) * Double(images.count - n - 1)
                log("[\(n + 1)/\(images.count)] \(image.id)" + (n + 1 < images.count ? ", about \(Self.duration(remaining)) left" : ""))
            } catch {
                failed += 1
                log("[\(n + 1)/\(images.count)] error: \(image.path): \(error)")
            }
        }
        try ResultStore.writeAtomically(Data(Self.csv(rows, classes: classes).utf8), to: output.appendingPathComponent("volumes.csv"))
        log("wrote \(rows.count) segmentation(s) and volumes.csv in \(Self.duration(Date().timeIntervalSince(started)))")
        if failed > 0 { throw PredictionError.someFailed(failed, of: images.count) }
        return rows
    }

    private func predict(_ image: (id: String, path: String), classes: Int) throws -> Row {
        let volume = try NIfTI.read(path: image.path)
        let prepared = try CasePreparation.prepareImage(volume, id: image.id, dataset: "predict", preprocessing: model.preprocessing)
        let labels = try model.segment(prepared)
        let target = output.appendingPathComponent("\(image.id).nii.gz")
        let partial = output.appendingPathComponent(".\(image.id).partial.nii.gz")
        try prepared.writePrediction(labels, to: partial)
        guard rename(partial.path, target.path) == 0 else {
            throw ResultStoreError.notWritable(target.path, String(cString: strerror(errno)))
        }
        var map = try prepared.original.referenceVolume()
        map.voxels = try prepared.toOriginalGrid(labels)
        var counts = [Int](repeating: 0, count: max(classes, 1))
        for v in map.voxels { let c = Int(v); if c > 0, c < counts.count { counts[c] += 1 } }
        return Row(id: image.id, image: image.path, labelVolumes: counts.dropFirst().map { Double($0) * map.voxelVolumeMM3 },
                   hemispheres: try Volumetry.measure(map))
    }

    static func csv(_ rows: [Row], classes: Int) -> String {
        let labels = (1..<max(classes, 2)).map { "label_\($0)_mm3" }
        var lines = [(["id", "image"] + labels + ["left_volume", "right_volume", "foreground_mm3"]).joined(separator: ",")]
        for row in rows {
            let values = row.labelVolumes.map { String(format: "%.3f", $0) }
            lines.append(([csvField(row.id), csvField(row.image)] + values
                          + [row.hemispheres.left, row.hemispheres.right, row.labelVolumes.reduce(0, +)].map { String(format: "%.3f", $0) })
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 90 ? String(format: "%.0f s", seconds) : seconds < 5400 ? String(format: "%.0f min", seconds / 60) : String(format: "%.1f h", seconds / 3600)
    }
}
