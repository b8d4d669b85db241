/// What a grid check needs of a volume: its name, shape and geometry. Both a `Volume` and a
/// `VolumeHeader` (read without voxels) have them, so grids are compared from headers first and
/// nothing is decoded for a pair that cannot match.
public protocol VoxelGrid {
    /// The file path (what error messages name).
    var name: String { get }
    /// (i, j, k) or (i, j, k, t).
    var shape: [Int] { get }
    var geometry: Geometry { get }
}

extension VoxelGrid {
    /// (nx, ny, nz): the spatial part of `shape`.
    public var gridSpatialShape: [Int] { Array(shape.prefix(3)) }
    /// Number of 3-D volumes (nt; 1 for a 3-D image).
    public var gridTimepoints: Int { shape.count > 3 ? shape[3] : 1 }
}

extension Volume: VoxelGrid {}

/// A NIfTI/ANALYZE header read and checked without its voxels (`NIfTI.readHeader`).
public struct VolumeHeader: VoxelGrid, Sendable {
    public var name: String
    public var shape: [Int]
    public var geometry: Geometry
    public var datatype: NIfTIDatatype
    public var voxelCount: Int
    /// The most memory `NIfTI.read` holds at once for this file: the Float32 voxels, plus the raw
    /// bytes they are decoded from unless the file stores unscaled native float32.
    public var decodedBytes: Int
}

extension VolumeHeader {
    /// Throws `tooLarge` when `decodedBytes` exceed `limit`. `what` says what the memory is for.
    public func requireFits(_ limit: Int, what: String, bytes: Int? = nil) throws {
        let needed = bytes ?? decodedBytes
        guard needed > limit else { return }
        throw VolumeError.tooLarge(path: name, voxels: voxelCount, neededBytes: needed, affordableBytes: limit, what: what)
    }
}
