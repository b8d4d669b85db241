import Foundation
import Tensors
import Volumes

/// The grid of the file a case came from, kept so a prediction made on the prepared grid can be
/// written back where the image was (orientation, resampling and cropping undone).
public struct OriginalGrid: Sendable, Equatable {
    /// The image file (nil for synthetic cases).
    public var imagePath: String?
    /// (i, j, k) or (i, j, k, t) as stored.
    public var shape: [Int]
    public var geometry: Geometry

    /// A zero volume on this grid (what `NIfTI.writePrediction(_:like:to:)` takes as reference).
    public func referenceVolume() throws -> Volume {
        let spatial = Array(shape.prefix(3))
        return try Volume(shape: spatial, voxels: [Float](repeating: 0, count: spatial.reduce(1, *)), geometry: geometry,
                          name: imagePath ?? "original grid")
    }
}

/// One case ready for training or inference: the preprocessed image and label on one grid.
///
/// Voxels are in NIfTI order (i fastest), which is exactly a row-major [k, j, i] array: the engine's
/// [D, H, W] without a copy.
public struct PreparedCase: Sendable {
    public let dataset: String
    public let id: String
    /// (i, j, k) after preprocessing.
    public let gridSize: [Int]
    /// Normalised intensities, `gridSize` product many.
    public let image: [Float]
    /// Classes (0 = background) as Float, same grid.
    public let label: [Float]
    /// Voxel size in mm along (i, j, k).
    public let spacing: [Double]
    /// What lies outside the image: 0 after `zscore_nonzero`/`minmax`, else the minimum. Pads use it.
    public let background: Float
    /// Standard deviation of the intensities the normalisation used (1 after z-scoring); the
    /// augmentation's intensity shift is a fraction of it.
    public let intensityStd: Float
    /// Prepared voxel (i, j, k) → world (mm, the file's RAS+ space).
    public let affine: Affine
    /// The grid of the source image.
    public let original: OriginalGrid
    /// The label file (nil for synthetic cases).
    public let labelPath: String?

    public init(dataset: String, id: String, gridSize: [Int], image: [Float], label: [Float], spacing: [Double],
                background: Float, intensityStd: Float, affine: Affine, original: OriginalGrid, labelPath: String?) {
        self.dataset = dataset
        self.id = id
        self.gridSize = gridSize
        self.image = image
        self.label = label
        self.spacing = spacing
        self.background = background
        self.intensityStd = intensityStd
        self.affine = affine
        self.original = original
        self.labelPath = labelPath
    }

    /// [k, j, i]: the engine's [D, H, W].
    public var tensorShape: [Int] { AxisOrder.tensorShape(fromNIfTI: gridSize) }

    /// The image as [1, 1, k, j, i] (N, C, D, H, W).
    public func imageTensor() -> Tensor { Tensor(image, shape: [1, 1] + tensorShape) }

    /// The label as [1, k, j, i] (N, D, H, W).
    public func labelTensor() -> Tensor { Tensor(label, shape: [1] + tensorShape) }

    /// Voxels per class value present (class → count).
    public var classVoxelCounts: [Int: Int] {
        var counts: [Int: Int] = [:]
        for v in label { counts[Int(v), default: 0] += 1 }
        return counts
    }

    /// A label map (or any per-voxel values) on the prepared grid, carried back to the original grid by
    /// nearest neighbour (exact for reorientation and crops); original voxels the prepared grid does
    /// not cover get 0. Returns NIfTI-ordered voxels of the original's spatial shape.
    public func toOriginalGrid(_ values: [Float]) throws -> [Float] {
        guard values.count == image.count else {
            throw DataError.caseFailed(
                dataset: dataset, caseID: id,
                reason: "prediction has \(values.count) voxels, the prepared grid \(gridSize) has \(image.count)")
        }
        let originalAffine = Matrix4(original.geometry.affine).scaledToMillimetres(original.geometry.millimetresPerUnit)
        guard let inverse = Matrix4(affine).inverse() else {
            throw DataError.caseFailed(dataset: dataset, caseID: id, reason: "the prepared grid's affine is singular")
        }
        let m = inverse * originalAffine
        let shape = Array(original.shape.prefix(3))
        let (nx, ny) = (gridSize[0], gridSize[0] * gridSize[1])
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        var n = 0
        for k in 0..<shape[2] {
            for j in 0..<shape[1] {
                let row = m.apply([0, Double(j), Double(k)])
                for i in 0..<shape[0] {
                    let p = (0..<3).map { row[$0] + m[$0, 0] * Double(i) }
                    if let u = voxelIndex(p[0] + 0.5), let v = voxelIndex(p[1] + 0.5), let w = voxelIndex(p[2] + 0.5),
                       u >= 0, u < gridSize[0], v >= 0, v < gridSize[1], w >= 0, w < gridSize[2] {
                        out[n] = values[w * ny + v * nx + u]
                    }
                    n += 1
                }
            }
        }
        return out
    }

    /// Writes a label prediction made on the prepared grid as uint8 NIfTI on the original image's grid
    /// (same dims, spacing, qform/sform), so it overlays the source image in any viewer.
    public func writePrediction(_ labels: [Float], to url: URL) throws {
        let voxels = try toOriginalGrid(labels)
        try NIfTI.writePrediction(voxels, like: try original.referenceVolume(), to: url)
    }
}

extension Matrix4 {
    /// The same transform with world coordinates in millimetres.
    func scaledToMillimetres(_ factor: Double) -> Matrix4 {
        factor == 1 ? self : Matrix4.scaling([factor, factor, factor]) * self
    }
}
