import Foundation

extension NIfTI {
    /// Reads a `.nii`, `.nii.gz`, NIfTI-1/2 pair or ANALYZE 7.5 pair (given by its `.hdr` or `.img`)
    /// into Float32 voxels, with `scl_slope`/`scl_inter` applied. Never crashes on a bad file: every
    /// problem is a `VolumeError` naming the file. NaN/Inf voxels are kept (see `requireFinite()`).
    public static func read(_ url: URL) throws -> Volume {
        try read(path: url.path)
    }

    /// - Parameter memoryLimit: the most bytes decoding may hold (default: `MemoryBudget.affordableBytes()`);
    ///   a file that needs more is refused with `tooLarge` before anything is allocated. A caller that
    ///   holds several volumes (`evaluate`, a data set's image and label) passes its share.
    public static func read(path: String, memoryLimit: Int? = nil) throws -> Volume {
        let file = try OpenedFile(path: path)
        try file.header.requireFits(memoryLimit ?? MemoryBudget.affordableBytes(), what: "decoding it")
        let voxels = try readVoxels(
            file.dataFile, file.probe, slope: file.facts.scaleSlope, intercept: file.facts.scaleIntercept)
        let source = Volume.Source(
            path: path, format: file.probe.format, datatype: file.probe.datatype, scaleSlope: file.facts.scaleSlope,
            scaleIntercept: file.facts.scaleIntercept, descriptionText: file.facts.descriptionText)
        return Volume(uncheckedShape: file.probe.shape, voxels: voxels, geometry: file.facts.geometry, source: source)
    }

    /// The header alone, vetted like `read` does (including that the data fits the file), with no
    /// voxel allocated: for comparing grids and sizing a read before decoding anything.
    public static func readHeader(path: String) throws -> VolumeHeader {
        try OpenedFile(path: path).header
    }

    /// A file whose header passed every check, positioned nowhere yet.
    struct OpenedFile {
        let probe: HeaderProbe
        let facts: LibniftiBridge.HeaderFacts
        let dataFile: GzipFile
        let header: VolumeHeader

        init(path: String) throws {
            let headerPath = try NIfTIPaths.header(for: path)
            let headerFileSize = try FileFacts.regularFileSize(headerPath)
            let headerFile = try GzipFile(path: headerPath)
            probe = try HeaderProbe.read(headerFile)
            try NIfTIPaths.checkHeaderName(headerPath, compressed: probe.compressed)

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
            facts = try LibniftiBridge.readHeader(headerPath, expecting: probe)
            let direct = probe.datatype == .float32 && !probe.swapped
                && !VoxelCodec.scales(slope: facts.scaleSlope, intercept: facts.scaleIntercept)
            header = VolumeHeader(
                name: path, shape: probe.shape, geometry: facts.geometry, datatype: probe.datatype,
                voxelCount: probe.voxelCount, decodedBytes: probe.voxelCount * 4 + (direct ? 0 : probe.dataBytes))
        }
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
