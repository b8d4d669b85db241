import CNIfTI
import Foundation

/// NIfTI intensity scaling: value = slope · stored + intercept.
public struct Scaling: Sendable, Equatable {
    public var slope: Double
    public var intercept: Double

    public init(slope: Double, intercept: Double = 0) {
        self.slope = slope
        self.intercept = intercept
    }
}

extension NIfTI {
    /// Writes `volume` as NIfTI-1 to a `.nii` or `.nii.gz` path (the suffix decides compression), with
    /// its geometry (spacing, qform/sform codes and matrices, units). Integer datatypes store rounded
    /// (value − intercept) / slope and refuse values that do not fit. Atomic: the file appears complete
    /// or not at all.
    public static func write(
        _ volume: Volume, to url: URL, datatype: NIfTIDatatype = .float32, scaling: Scaling? = nil
    ) throws {
        let path = url.path
        let bytes = try encode(volume.voxels, shape: volume.shape, as: datatype, scaling: scaling, path: path)
        try bytes.withUnsafeBytes { raw in
            try writeFile(
                raw.baseAddress!, shape: volume.shape, geometry: volume.geometry, datatype: datatype,
                scaling: scaling, path: path)
        }
    }

    /// Writes a prediction (labels or probabilities, NIfTI voxel order) on the grid of `reference`: same
    /// dims, spacing, qform/sform codes and matrices, and units. `voxels` covers the reference's whole
    /// shape, or one 3-D volume of a 4-D reference. uint8 by default (labels); pass `.float32` for
    /// probabilities or images.
    public static func writePrediction(
        _ voxels: [Float], like reference: Volume, to url: URL, datatype: NIfTIDatatype = .uint8
    ) throws {
        let path = url.path
        let shape = try predictionShape(count: voxels.count, reference: reference, path: path)
        let bytes = try encode(voxels, shape: shape, as: datatype, scaling: nil, path: path)
        try bytes.withUnsafeBytes { raw in
            try writeFile(
                raw.baseAddress!, shape: shape, geometry: reference.geometry, datatype: datatype, scaling: nil,
                path: path)
        }
    }

    /// Writes uint8 labels (NIfTI voxel order) on the grid of `reference`, without conversion.
    public static func writePrediction(_ labels: [UInt8], like reference: Volume, to url: URL) throws {
        let path = url.path
        let shape = try predictionShape(count: labels.count, reference: reference, path: path)
        try checkShape(shape, path: path)
        try labels.withUnsafeBytes { raw in
            try writeFile(
                raw.baseAddress!, shape: shape, geometry: reference.geometry, datatype: .uint8, scaling: nil,
                path: path)
        }
    }

    private static func predictionShape(count: Int, reference: Volume, path: String) throws -> [Int] {
        if count == reference.voxelCount { return reference.shape }
        if count == reference.spatialVoxelCount { return reference.spatialShape }
        throw VolumeError.writeFailed(
            path: path,
            reason: "\(count) voxels do not fit the reference grid \(reference.shape) of \(reference.name)")
    }

    private static func encode(
        _ voxels: [Float], shape: [Int], as datatype: NIfTIDatatype, scaling: Scaling?, path: String
    ) throws -> [UInt8] {
        try checkShape(shape, path: path)
        guard voxels.count == shape.reduce(1, *) else {
            throw VolumeError.writeFailed(path: path, reason: "\(voxels.count) voxels for shape \(shape)")
        }
        if let scaling, !(scaling.slope != 0 && scaling.slope.isFinite && scaling.intercept.isFinite) {
            throw VolumeError.writeFailed(path: path, reason: "scaling \(scaling) needs a finite, non-zero slope")
        }
        do {
            return try VoxelCodec.encode(
                voxels, as: datatype, slope: scaling?.slope ?? 0, intercept: scaling?.intercept ?? 0)
        } catch let bad as VoxelCodec.Unstorable {
            let at = Volume.coordinates(ofIndex: bad.index, shape: shape)
            throw VolumeError.writeFailed(
                path: path,
                reason: "value \(bad.value) at voxel \(at) does not fit \(datatype)"
                    + "\(scaling.map { " with slope \($0.slope), intercept \($0.intercept)" } ?? ""); "
                    + "choose a wider datatype or a scaling")
        }
    }

    private static func checkShape(_ shape: [Int], path: String) throws {
        guard shape.count == 3 || shape.count == 4, shape.allSatisfy({ (1...32767).contains($0) }) else {
            throw VolumeError.writeFailed(
                path: path, reason: "shape \(shape) must be 3 or 4 sizes of 1 to 32767 (NIfTI-1 header)")
        }
    }

    /// The one place that hands data to libnifti: checks, writes a temporary file in the destination
    /// folder, verifies it, renames it into place.
    private static func writeFile(
        _ data: UnsafeRawPointer, shape: [Int], geometry: Geometry, datatype: NIfTIDatatype, scaling: Scaling?,
        path: String
    ) throws {
        _ = NIfTI.quiet
        guard let suffix = [".nii.gz", ".nii"].first(where: path.hasSuffix) else {
            throw VolumeError.writeFailed(path: path, reason: "the name must end in .nii or .nii.gz")
        }
        try checkShape(shape, path: path)
        guard geometry.spacing.count == 3, geometry.spacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw VolumeError.writeFailed(path: path, reason: "spacing \(geometry.spacing) must be 3 positive sizes")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              access(directory, W_OK) == 0 else {
            throw VolumeError.writeFailed(path: path, reason: "folder \(directory) does not exist or is not writable")
        }
        let name = (path as NSString).lastPathComponent
        let temporary = "\(directory)/.\(name).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp\(suffix)"
        defer { unlink(temporary) }   // a no-op once renamed

        var dims = [Int64](repeating: 1, count: 8)
        dims[0] = Int64(shape.count)
        for (axis, size) in shape.enumerated() { dims[axis + 1] = Int64(size) }
        guard let nim = nifti_make_new_nim(dims, Int32(datatype.rawValue), 0) else {
            throw VolumeError.writeFailed(path: path, reason: "libnifti could not create a header")
        }
        defer {
            nim.pointee.data = nil   // our buffer: libnifti must not free it
            nifti_image_free(nim)
        }
        LibniftiBridge.apply(geometry, to: nim)
        nim.pointee.scl_slope = scaling?.slope ?? 0   // 0: no scaling
        nim.pointee.scl_inter = scaling?.intercept ?? 0
        nim.pointee.nifti_type = NIFTI_FTYPE_NIFTI1_1
        nim.pointee.data = UnsafeMutableRawPointer(mutating: data)
        guard nifti_set_filenames(nim, temporary, 0, 1) == 0 else {
            throw VolumeError.writeFailed(path: path, reason: "libnifti rejected the file name \(temporary)")
        }
        nifti_image_write(nim)   // returns nothing: check the file it left

        do {
            try verifyWritten(temporary, shape: shape, datatype: datatype)
        } catch let error as VolumeError {
            throw VolumeError.writeFailed(path: path, reason: "the written file does not read back: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            throw VolumeError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Header says what we wrote, and the whole data stream (with its gzip checksum) is there.
    private static func verifyWritten(_ path: String, shape: [Int], datatype: NIfTIDatatype) throws {
        let file = try GzipFile(path: path)
        let probe = try HeaderProbe.read(file)
        guard probe.format == .nifti1, probe.shape == shape, probe.datatype == datatype else {
            throw VolumeError.invalidHeader(
                path: path, reason: "header says \(probe.format) \(probe.shape) \(probe.datatype)")
        }
        try file.seek(to: probe.dataOffset)
        let chunk = 1 << 20
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { scratch.deallocate() }
        var remaining = probe.dataBytes
        while remaining > 0 {
            let part = min(chunk, remaining)
            try file.readExactly(into: scratch, count: part, what: "voxel data")
            remaining -= part
        }
        try file.requireIntactEnd()
    }
}
