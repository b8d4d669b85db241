/// Where the voxels sit in the world: voxel size, NIfTI's two voxel-to-world transforms (qform and
/// sform) with their codes, and units. Kept whole so a prediction can be written back with exactly the
/// geometry of the image it was computed from.
public struct Geometry: Sendable, Equatable {
    /// NIfTI xform codes (meaning of a transform's world space).
    public enum XformCode {
        public static let unknown = 0
        public static let scannerAnatomical = 1
        public static let alignedAnatomical = 2
        public static let talairach = 3
        public static let mni152 = 4
    }

    /// NIfTI unit codes of `spatialUnits` / `timeUnits`.
    public enum UnitCode {
        public static let unknown = 0
        public static let meter = 1
        public static let millimeter = 2
        public static let micron = 3
        public static let second = 8
        public static let millisecond = 16
        public static let microsecond = 24
    }

    /// The quaternion form of the qform exactly as stored (NIfTI-1/2 `quatern_b/c/d`, `qoffset_*`,
    /// and qfac = the sign of pixdim[0]).
    public struct Quaternion: Sendable, Equatable {
        public var b, c, d: Double
        public var offsetX, offsetY, offsetZ: Double
        public var qfac: Double
    }

    /// Voxel size along i, j, k (pixdim[1...3]) in `spatialUnits` (millimetres for MSD data).
    public var spacing: [Double]
    public var qformCode: Int
    /// libnifti's `qto_xyz`; diag(spacing) when `qformCode` is 0.
    public var qform: Affine
    /// The stored quaternion; nil for a geometry built in memory. Writing uses it only while it still
    /// reproduces `qform` with `spacing`, and otherwise derives a new one from `qform`.
    public var quaternion: Quaternion?
    public var sformCode: Int
    /// libnifti's `sto_xyz` (meaningless when `sformCode` is 0).
    public var sform: Affine
    public var spatialUnits: Int
    public var timeUnits: Int
    /// pixdim[4]: time between volumes of a 4-D series (0 or 1 for a 3-D image).
    public var timeStep: Double

    public init(
        spacing: [Double], qformCode: Int, qform: Affine, quaternion: Quaternion?, sformCode: Int,
        sform: Affine, spatialUnits: Int = UnitCode.millimeter, timeUnits: Int = UnitCode.unknown,
        timeStep: Double = 0
    ) {
        self.spacing = spacing
        self.qformCode = qformCode
        self.qform = qform
        self.quaternion = quaternion
        self.sformCode = sformCode
        self.sform = sform
        self.spatialUnits = spatialUnits
        self.timeUnits = timeUnits
        self.timeStep = timeStep
    }

    /// A geometry for a volume built in memory: both qform and sform set to `affine` (default
    /// diag(spacing)) with code `code` (scanner anatomical by default), millimetres.
    public init(spacing: [Double], affine: Affine? = nil, code: Int = XformCode.scannerAnatomical) {
        let matrix = affine ?? .diagonal(spacing)
        self.init(
            spacing: spacing, qformCode: code, qform: matrix, quaternion: nil, sformCode: code, sform: matrix)
    }

    /// The voxel-to-world matrix, chosen as nibabel does: the sform if its code is > 0, else the qform
    /// if its code is > 0, else diag(spacing).
    public var affine: Affine {
        if sformCode > 0 { return sform }
        if qformCode > 0 { return qform }
        return .diagonal(spacing)
    }

    /// Axis directions of `affine`, e.g. "RAS" or "LPS" (nibabel's `aff2axcodes`).
    public var orientation: String { affine.axisCodes }

    /// Millimetres per spatial unit (unknown units are taken as millimetres, as most tools do).
    public var millimetresPerUnit: Double {
        switch spatialUnits {
        case UnitCode.meter: return 1000
        case UnitCode.micron: return 0.001
        default: return 1
        }
    }

    /// Voxel size in millimetres.
    public var spacingMM: [Double] { spacing.map { $0 * millimetresPerUnit } }

    /// Same voxel size in millimetres within a relative tolerance (NIfTI-1 stores pixdim as Float32).
    public func hasSameSpacing(as other: Geometry, relativeTolerance: Double = 1e-4) -> Bool {
        guard spacing.count == other.spacing.count else { return false }
        return zip(spacingMM, other.spacingMM).allSatisfy { a, b in
            abs(a - b) <= relativeTolerance * max(abs(a), abs(b), 1e-12)
        }
    }
}
