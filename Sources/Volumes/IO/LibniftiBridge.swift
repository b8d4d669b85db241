import CNIfTI

/// Moves header facts between libnifti's `nifti_image` and our `Geometry`.
enum LibniftiBridge {
    /// What libnifti makes of a (vetted) header, read without its data.
    struct HeaderFacts {
        var geometry: Geometry
        var scaleSlope: Double
        var scaleIntercept: Double
        var descriptionText: String
    }

    /// Reads the header with libnifti (`nifti_image_read(path, 0)`: no voxel allocation) and checks
    /// that libnifti sees the same grid, datatype and data offset as our probe.
    static func readHeader(_ path: String, expecting probe: HeaderProbe) throws -> HeaderFacts {
        _ = NIfTI.quiet
        guard let nim = nifti_image_read(path, 0) else {
            throw VolumeError.invalidHeader(path: path, reason: "libnifti could not interpret the header")
        }
        defer { nifti_image_free(nim) }
        let image = nim.pointee
        guard image.nvox == Int64(probe.voxelCount), Int(image.datatype) == probe.datatype.rawValue,
              image.iname_offset == Int64(probe.dataOffset) else {
            throw VolumeError.invalidHeader(
                path: path,
                reason: "libnifti reads \(image.nvox) voxels of datatype \(image.datatype) at offset "
                    + "\(image.iname_offset), the header check \(probe.voxelCount) of \(probe.datatype.rawValue) "
                    + "at \(probe.dataOffset)")
        }
        // pixdim should be positive; libnifti already turned 0/NaN into 1 for the used axes.
        let spacing = [image.dx, image.dy, image.dz].map { $0.isFinite && $0 != 0 ? abs($0) : 1 }
        let qformCode = Int(image.qform_code)
        let geometry = Geometry(
            spacing: spacing,
            qformCode: qformCode,
            qform: affine(image.qto_xyz),
            quaternion: qformCode > 0
                ? Geometry.Quaternion(
                    b: image.quatern_b, c: image.quatern_c, d: image.quatern_d, offsetX: image.qoffset_x,
                    offsetY: image.qoffset_y, offsetZ: image.qoffset_z, qfac: image.qfac)
                : nil,
            sformCode: Int(image.sform_code),
            sform: affine(image.sto_xyz),
            spatialUnits: Int(image.xyz_units),
            timeUnits: Int(image.time_units),
            timeStep: image.dt)
        let description = withUnsafeBytes(of: image.descrip) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return HeaderFacts(
            geometry: geometry, scaleSlope: image.scl_slope, scaleIntercept: image.scl_inter,
            descriptionText: description)
    }

    /// Sets grid spacing, both transforms and units of a `nifti_image` that is about to be written.
    static func apply(_ geometry: Geometry, to nim: UnsafeMutablePointer<nifti_image>) {
        // The writer takes pixdim from dx/dy/dz, not from pixdim[]: set both.
        nim.pointee.dx = geometry.spacing[0]
        nim.pointee.dy = geometry.spacing[1]
        nim.pointee.dz = geometry.spacing[2]
        let timeStep = geometry.timeStep > 0 && geometry.timeStep.isFinite ? geometry.timeStep : 1
        nim.pointee.dt = timeStep
        withUnsafeMutableBytes(of: &nim.pointee.pixdim) { raw in
            let pixdim = raw.bindMemory(to: Double.self)
            pixdim[1] = geometry.spacing[0]
            pixdim[2] = geometry.spacing[1]
            pixdim[3] = geometry.spacing[2]
            pixdim[4] = timeStep
        }
        nim.pointee.qform_code = Int32(clamping: geometry.qformCode)
        nim.pointee.qto_xyz = dmat44(geometry.qform)
        if geometry.qformCode > 0 {
            // The writer stores the qform as a quaternion: keep the one read from the file as long as it
            // still describes `qform` (exact round trip), else derive it from the matrix.
            let q = geometry.quaternion.flatMap { reproduces($0, geometry) ? $0 : nil } ?? quaternion(of: geometry.qform)
            nim.pointee.quatern_b = q.b
            nim.pointee.quatern_c = q.c
            nim.pointee.quatern_d = q.d
            nim.pointee.qoffset_x = q.offsetX
            nim.pointee.qoffset_y = q.offsetY
            nim.pointee.qoffset_z = q.offsetZ
            nim.pointee.qfac = q.qfac
        }
        nim.pointee.sform_code = Int32(clamping: geometry.sformCode)
        nim.pointee.sto_xyz = dmat44(geometry.sform)
        nim.pointee.xyz_units = Int32(clamping: geometry.spatialUnits)
        nim.pointee.time_units = Int32(clamping: geometry.timeUnits)
    }

    private static func reproduces(_ q: Geometry.Quaternion, _ geometry: Geometry) -> Bool {
        let s = geometry.spacing
        let matrix = nifti_quatern_to_dmat44(
            q.b, q.c, q.d, q.offsetX, q.offsetY, q.offsetZ, s[0], s[1], s[2], q.qfac)
        let scale = geometry.qform.values.map(abs).max() ?? 1
        return affine(matrix).isClose(to: geometry.qform, tolerance: 1e-6 * max(scale, 1))
    }

    private static func quaternion(of matrix: Affine) -> Geometry.Quaternion {
        var q = Geometry.Quaternion(b: 0, c: 0, d: 0, offsetX: 0, offsetY: 0, offsetZ: 0, qfac: 1)
        var dx = 0.0, dy = 0.0, dz = 0.0
        nifti_dmat44_to_quatern(
            dmat44(matrix), &q.b, &q.c, &q.d, &q.offsetX, &q.offsetY, &q.offsetZ, &dx, &dy, &dz, &q.qfac)
        return q
    }

    static func affine(_ matrix: nifti_dmat44) -> Affine {
        withUnsafeBytes(of: matrix) { Affine(rowMajor: Array($0.bindMemory(to: Double.self))) }
    }

    static func dmat44(_ affine: Affine) -> nifti_dmat44 {
        var matrix = nifti_dmat44()
        withUnsafeMutableBytes(of: &matrix) { raw in
            let m = raw.bindMemory(to: Double.self)
            for n in 0..<16 { m[n] = affine.values[n] }
        }
        return matrix
    }
}
