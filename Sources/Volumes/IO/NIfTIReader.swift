import Foundation

extension NIfTI {
    /// Reads a `.nii`, `.nii.gz`, NIfTI-1/2 pair or ANALYZE 7.5 pair (given by its `.hdr` or `.img`)
    /// into Float32 voxels, with `scl_slope`/`scl_inter` applied. Never crashes on a bad file: every
    /// problem is a `VolumeError` naming the file. NaN/Inf voxels are kept (see `requireFinite()`).
    public static func read(_ url: URL) throws -> Volume {
        try read(path: url.path)
    }

    public static func read(path: String) throws -> Volume {
        let headerPath = try NIfTIPaths.header(for: path)
        let headerFileSize = try FileFacts.regularFileSize(headerPath)
        let headerFile = try GzipFile(path: headerPath)
        let probe = try HeaderProbe.read(headerFile)
        try NIfTIPaths.checkHeaderName(headerPath, compressed: probe.compressed)

        let dataFile: GzipFile
        let dataFileSize: Int
        let dataCompressed: Bool
        if probe.format.isPair {
            let imagePath = try NIfTIPaths.pairedImage(forHeader: headerPath)
            dataFileSize = try FileFacts.regularFileSize(imagePath)
            dataCompressed = FileFacts.isGzip(imagePath)
            dataFile = try GzipFile(path: imagePath)
        } else {
            (dataFile, dataFileSize, dataCompressed) = (headerFile, headerFileSize, probe.compressed)
        }
        // Refuse before anything allocates room for the voxels.
        try checkDataFits(probe, path: dataFile.path, fileSize: dataFileSize, compressed: dataCompressed)

        let header = try LibniftiBridge.readHeader(headerPath, expecting: probe)
        let voxels = try readVoxels(
            dataFile, probe, slope: header.scaleSlope, intercept: header.scaleIntercept)
        let source = Volume.Source(
            path: path, format: probe.format, datatype: probe.datatype, scaleSlope: header.scaleSlope,
            scaleIntercept: header.scaleIntercept, descriptionText: header.descriptionText)
        return Volume(uncheckedShape: probe.shape, voxels: voxels, geometry: header.geometry, source: source)
    }

    /// A plain file must hold offset + data bytes; a gzip file cannot inflate to more than ~1032 times
    /// its size (deflate's limit), which catches headers that claim absurd sizes.
    static func checkDataFits(_ probe: HeaderProbe, path: String, fileSize: Int, compressed: Bool) throws {
        let needed = probe.dataOffset + probe.dataBytes
        let layout = "\(probe.dataOffset)-byte offset + \(probe.voxelCount) voxels × \(probe.datatype.bytesPerVoxel) bytes"
        if compressed {
            let (bound, overflow) = fileSize.multipliedReportingOverflow(by: 1032)
            if !overflow, needed > bound + 4096 {
                throw VolumeError.truncated(
                    path: path,
                    reason: "the header describes \(needed) bytes (\(layout)), more than a \(fileSize)-byte gzip file can hold")
            }
        } else if fileSize < needed {
            throw VolumeError.truncated(
                path: path, reason: "the file has \(fileSize) bytes, the header needs \(needed) (\(layout))")
        }
    }

    static func readVoxels(_ file: GzipFile, _ probe: HeaderProbe, slope: Double, intercept: Double) throws
        -> [Float]
    {
        try file.seek(to: probe.dataOffset)
        let count = probe.voxelCount
        let what = "voxel data (\(count) voxels of \(probe.datatype) = \(probe.dataBytes) bytes)"
        let voxels: [Float]
        if probe.datatype == .float32, !probe.swapped, !VoxelCodec.scales(slope: slope, intercept: intercept) {
            // Stored exactly as we keep it: read straight into the array.
            voxels = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                try file.readExactly(into: buffer.baseAddress!, count: count * 4, what: what)
                initialized = count
            }
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: probe.dataBytes, alignment: 16)
            defer { raw.deallocate() }
            try file.readExactly(into: raw, count: probe.dataBytes, what: what)
            voxels = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                VoxelCodec.decode(
                    raw, datatype: probe.datatype, swapped: probe.swapped, slope: slope, intercept: intercept,
                    into: buffer)
                initialized = count
            }
        }
        try file.requireIntactEnd()
        return voxels
    }
}
