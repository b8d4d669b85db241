/// A 3-D (or 4-D) image in Float32. Voxels are in NIfTI order, i fastest (as stored on disk):
/// voxel (i, j, k, t) is `voxels[i + nx * (j + ny * (k + nz * t))]`. A label map is a Volume with
/// integral values (see `integerLabels()`).
public struct Volume: Sendable {
    /// Voxel axes (i, j, k) or (i, j, k, t); 2-D files get k = 1. Fixed: a new shape is a new Volume.
    public internal(set) var shape: [Int]
    /// May be edited in place; its count must stay the product of `shape`.
    public var voxels: [Float]
    public var geometry: Geometry
    /// How the file this came from was stored; nil for a volume built in memory.
    public var source: Source?

    /// Facts about the file a volume was read from.
    public struct Source: Sendable, Equatable {
        public var path: String
        public var format: NIfTIFormat
        /// The on-disk voxel type before conversion to Float32.
        public var datatype: NIfTIDatatype
        /// scl_slope / scl_inter as stored (slope 0 = no scaling; ANALYZE has none).
        public var scaleSlope: Double
        public var scaleIntercept: Double
        /// The header's `descrip` text.
        public var descriptionText: String
    }

    /// A volume built in memory. Throws when the voxel count or the spacing does not fit the shape.
    public init(shape: [Int], voxels: [Float], geometry: Geometry, name: String = "in-memory volume") throws {
        guard shape.count == 3 || shape.count == 4, shape.allSatisfy({ $0 > 0 }) else {
            throw VolumeError.invalidVolume(name: name, reason: "shape \(shape) must be 3 or 4 positive sizes")
        }
        let count = shape.reduce(1, *)
        guard voxels.count == count else {
            throw VolumeError.invalidVolume(
                name: name, reason: "\(voxels.count) voxels for shape \(shape), which needs \(count)")
        }
        guard geometry.spacing.count == 3, geometry.spacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw VolumeError.invalidVolume(
                name: name, reason: "spacing \(geometry.spacing) must be 3 positive sizes")
        }
        self.init(uncheckedShape: shape, voxels: voxels, geometry: geometry, source: nil)
    }

    /// A volume built in memory with both transforms set to `affine` (default diag(spacing)).
    public init(shape: [Int], voxels: [Float], spacing: [Double], affine: Affine? = nil) throws {
        try self.init(shape: shape, voxels: voxels, geometry: Geometry(spacing: spacing, affine: affine))
    }

    init(uncheckedShape shape: [Int], voxels: [Float], geometry: Geometry, source: Source?) {
        self.shape = shape
        self.voxels = voxels
        self.geometry = geometry
        self.source = source
    }

    /// The file path, or "in-memory volume": what error messages name.
    public var name: String { source?.path ?? "in-memory volume" }

    public var spacing: [Double] { geometry.spacing }
    /// The voxel-to-world matrix (sform, else qform, else diag(spacing), as nibabel chooses).
    public var affine: Affine { geometry.affine }
    /// Axis directions, e.g. "RAS" (nibabel's `aff2axcodes` of `affine`).
    public var orientation: String { geometry.orientation }

    /// (nx, ny, nz): the spatial part of `shape`.
    public var spatialShape: [Int] { Array(shape.prefix(3)) }
    /// Number of 3-D volumes (nt; 1 for a 3-D image).
    public var timepoints: Int { shape.count > 3 ? shape[3] : 1 }
    public var voxelCount: Int { voxels.count }
    /// Voxels per 3-D volume.
    public var spatialVoxelCount: Int { shape[0] * shape[1] * shape[2] }

    /// Physical volume of one voxel in mm³ (spacing converted from the header's spatial units).
    public var voxelVolumeMM3: Double {
        let mm = geometry.millimetresPerUnit
        return geometry.spacing.prefix(3).reduce(1) { $0 * $1 * mm }
    }

    /// Index into `voxels` of (i, j, k[, t]).
    @inline(__always)
    public func index(_ i: Int, _ j: Int, _ k: Int, _ t: Int = 0) -> Int {
        i + shape[0] * (j + shape[1] * (k + shape[2] * t))
    }

    /// (i, j, k[, t]) of a flat index into `voxels`.
    public func coordinates(ofIndex index: Int) -> [Int] {
        Self.coordinates(ofIndex: index, shape: shape)
    }

    static func coordinates(ofIndex index: Int, shape: [Int]) -> [Int] {
        var rest = index
        var result: [Int] = []
        for size in shape {
            result.append(size > 0 ? rest % size : 0)
            rest = size > 0 ? rest / size : 0
        }
        return result
    }

    public subscript(i: Int, j: Int, k: Int) -> Float {
        get { voxels[index(i, j, k)] }
        set { voxels[index(i, j, k)] = newValue }
    }

    public subscript(i: Int, j: Int, k: Int, t: Int) -> Float {
        get { voxels[index(i, j, k, t)] }
        set { voxels[index(i, j, k, t)] = newValue }
    }
}
