import Volumes

/// Turns an image and its label into a `PreparedCase`: checks (same grid, finite intensities, integer
/// labels), label map, orientation, resampling, clipping, normalisation, box, crop, pad — in that order.
public enum CasePreparation {
    /// Every failure is a `DataError.caseFailed` naming the data set and case (and, through the
    /// volume error it carries, the file).
    public static func prepare(
        image: Volume, label: Volume, id: String, dataset: String, labelMap: LabelMap?,
        preprocessing: PreprocessingSpec
    ) throws -> PreparedCase {
        func fail(_ reason: String) -> DataError { .caseFailed(dataset: dataset, caseID: id, reason: reason) }
        do {
            guard image.timepoints == 1, label.timepoints == 1 else {
                let volume = image.timepoints > 1 ? image : label
                throw fail("\(volume.name) holds \(volume.timepoints) volumes (4-D); only single-channel 3-D images are supported")
            }
            try checkSameGrid(image: image, label: label)
            let imageCodes = image.orientation
            if label.geometry.qformCode > 0 || label.geometry.sformCode > 0, label.orientation != imageCodes {
                throw fail("\(label.name): label axes \(label.orientation) differ from image axes \(imageCodes) of "
                           + "\(image.name); resample the label onto the image grid")
            }
            try image.requireFinite()
            let classes = try mapLabels(label, labelMap)

            let unit = image.geometry.millimetresPerUnit
            var grid = CaseGrid(
                size: image.spatialShape, image: image.voxels, label: classes,
                affine: Matrix4(image.affine).scaledToMillimetres(unit))
            if let orientation = preprocessing.orientation { try grid.reorient(to: orientation) }
            if let spacing = preprocessing.spacing { try grid.resample(to: spacing) }

            let mode = preprocessing.normalize
            if let clip = preprocessing.clipPercentiles {
                IntensityNormalization.clip(&grid.image, percentiles: clip, mode: mode)
            }
            let used = grid.image.map(IntensityNormalization.statisticsMask(mode))
            let background = IntensityNormalization.normalize(&grid.image, mode: mode)
            let std = standardDeviation(grid.image, mask: used)

            switch preprocessing.box {
            case .voxels(let start, let size)?:
                try grid.cut(start: start, size: size, fill: background)
            case .world(let low, let high)?:
                let window = try grid.window(ofWorldBox: low, high)
                try grid.cut(start: window.start, size: window.size, fill: background)
            case nil:
                break
            }
            if let target = preprocessing.cropTo {
                let window = Window.centreCrop(size: grid.size, to: target)
                try grid.cut(start: window.start, size: window.size, fill: background)
            }
            if let target = preprocessing.padTo {
                let window = Window.centrePad(size: grid.size, to: target)
                try grid.cut(start: window.start, size: window.size, fill: background)
            }
            return PreparedCase(
                dataset: dataset, id: id, gridSize: grid.size, image: grid.image, label: grid.label, spacing: grid.spacing,
                background: background, intensityStd: std, affine: grid.affine.affine,
                original: OriginalGrid(imagePath: image.source?.path, shape: image.shape, geometry: image.geometry),
                labelPath: label.source?.path)
        } catch let error as DataError {
            throw error
        } catch let error as VolumeError {
            throw fail(error.description)
        } catch let error as PreprocessFailure {
            throw fail(error.reason)
        }
    }

    /// An image without a label (a new scan to segment, or an image for self-supervised training):
    /// prepared like a case whose label is all background.
    public static func prepareImage(_ image: Volume, id: String, dataset: String,
                                    preprocessing: PreprocessingSpec) throws -> PreparedCase {
        let spatial = image.spatialShape
        let empty = try Volume(shape: spatial, voxels: [Float](repeating: 0, count: spatial.reduce(1, *)),
                               geometry: image.geometry, name: image.name)
        return try prepare(image: image, label: empty, id: id, dataset: dataset, labelMap: nil, preprocessing: preprocessing)
    }

    /// Integer label values → classes (Float), through the label map if there is one.
    static func mapLabels(_ label: Volume, _ map: LabelMap?) throws -> [Float] {
        let values = try label.integerLabels()
        guard let map else { return values.map(Float.init) }
        let maxValue = Int(values.max() ?? 0)
        if maxValue <= 65_535, (values.min() ?? 0) >= 0 {
            let table = map.table(upTo: maxValue)
            return values.map { table[Int($0)] }
        }
        return values.map { Float(map(Int($0))) }
    }

    static func standardDeviation(_ voxels: [Float], mask: [Bool]) -> Float {
        var sum = 0.0, sumSquares = 0.0, count = 0
        for n in voxels.indices where mask[n] {
            sum += Double(voxels[n])
            sumSquares += Double(voxels[n]) * Double(voxels[n])
            count += 1
        }
        guard count > 1 else { return 1 }
        let mean = sum / Double(count)
        let std = max(0, sumSquares / Double(count) - mean * mean).squareRoot()
        return std > 1e-12 ? Float(std) : 1
    }
}
