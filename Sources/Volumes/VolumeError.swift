/// Everything that can go wrong reading, checking or writing a volume. Each case names the file (or
/// files) involved, and `description` is one line saying what is wrong and what to do about it.
public enum VolumeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file at this path (for an ANALYZE pair: the header or the image half is missing).
    case missingFile(path: String)
    /// The file exists but cannot be read (a directory, no permission, an I/O error).
    case unreadable(path: String, reason: String)
    /// The bytes are not a NIfTI-1, NIfTI-2 or ANALYZE 7.5 header.
    case notNIfTI(path: String, reason: String)
    /// The file (or its gzip stream) ends before the data the header describes.
    case truncated(path: String, reason: String)
    /// The gzip stream is damaged (bad compressed data or checksum).
    case corrupt(path: String, reason: String)
    /// A datatype we do not convert to Float32 (complex, RGB, binary, float128, ...).
    case unsupportedDatatype(path: String, code: Int, name: String)
    /// Zero, negative, too many, or absurdly large dimensions.
    case badDimensions(path: String, dims: [Int], reason: String)
    /// Another header field is unusable (data offset, scaling, file name).
    case invalidHeader(path: String, reason: String)
    /// NaN or infinite voxels (from `Volume.requireFinite()`); `firstIndex` is (i, j, k[, t]).
    case nonFinite(path: String, count: Int, firstIndex: [Int])
    /// A label volume holds a value that is not an integer (from `Volume.integerLabels()`).
    case nonIntegerLabel(path: String, value: Float, index: [Int])
    /// A label map holds a negative value (from `Volume.classLabels()`).
    case negativeLabel(path: String, value: Int, index: [Int])
    /// Image and label have different voxel grids.
    case gridMismatch(image: String, label: String, imageShape: [Int], labelShape: [Int])
    /// Image and label have different voxel sizes.
    case spacingMismatch(image: String, label: String, imageSpacing: [Double], labelSpacing: [Double])
    /// A volume built in memory is inconsistent (voxel count versus shape, spacing length, ...).
    case invalidVolume(name: String, reason: String)
    /// Writing failed; nothing was left at the destination.
    case writeFailed(path: String, reason: String)
    /// Decoding (or working on) the voxels would take more memory than this process can use.
    case tooLarge(path: String, voxels: Int, neededBytes: Int, affordableBytes: Int, what: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file not found; check the path and the dataset's file list"
        case .unreadable(let path, let reason):
            return "\(path): cannot read the file (\(reason)); check that it is a regular, readable file"
        case .notNIfTI(let path, let reason):
            return "\(path): not a NIfTI-1, NIfTI-2 or ANALYZE 7.5 image (\(reason)); remove it from the "
                + "data folder or replace it with the intended .nii/.nii.gz file"
        case .truncated(let path, let reason):
            return "\(path): file is truncated (\(reason)); copy or download it again"
        case .corrupt(let path, let reason):
            return "\(path): compressed data is damaged (\(reason)); copy or download it again"
        case .unsupportedDatatype(let path, let code, let name):
            return "\(path): voxel datatype \(name) (NIfTI code \(code)) is not supported; convert the file to "
                + "a real-valued type (uint8, int16, float32, ...) first"
        case .badDimensions(let path, let dims, let reason):
            return "\(path): impossible dimensions \(dims) (\(reason)); the header is damaged or this is not a "
                + "3-D/4-D image"
        case .invalidHeader(let path, let reason):
            return "\(path): unusable header (\(reason)); re-export the file with a standard NIfTI writer"
        case .nonFinite(let path, let count, let firstIndex):
            return "\(path): \(count) voxel(s) are NaN or infinite, the first at (i, j, k) = "
                + "\(Self.tuple(firstIndex)); fix or mask them before training"
        case .nonIntegerLabel(let path, let value, let index):
            return "\(path): label map holds the non-integer value \(value) at (i, j, k) = "
                + "\(Self.tuple(index)); pass the segmentation, not an image or a probability map"
        case .negativeLabel(let path, let value, let index):
            return "\(path): label map holds the negative value \(value) at (i, j, k) = \(Self.tuple(index)); labels are "
                + "0 (background) or more"
        case .gridMismatch(let image, let label, let imageShape, let labelShape):
            return "\(label): label grid \(labelShape) differs from image grid \(imageShape) of \(image); "
                + "pair each image with its own label (resample the label onto the image grid if needed)"
        case .spacingMismatch(let image, let label, let imageSpacing, let labelSpacing):
            return "\(label): label voxel size \(labelSpacing) differs from image voxel size \(imageSpacing) of "
                + "\(image); pair each image with its own label (resample the label onto the image grid if needed)"
        case .invalidVolume(let name, let reason):
            return "\(name): inconsistent volume (\(reason)); build it with one voxel per grid point"
        case .writeFailed(let path, let reason):
            return "\(path): could not write (\(reason)); nothing was written there"
        case let .tooLarge(path, voxels, needed, affordable, what):
            return "\(path): \(voxels) voxels; \(what) needs \(MemoryBudget.describe(needed)) but this process can use "
                + "\(MemoryBudget.describe(affordable)) (physical memory, ulimit, cgroup); refused before allocating. "
                + "Check the header's dimensions, or run where more memory is available"
        }
    }

    private static func tuple(_ index: [Int]) -> String {
        "(" + index.map(String.init).joined(separator: ", ") + ")"
    }
}
