import CNIfTI
import Foundation

/// Reading and writing NIfTI-1/NIfTI-2/ANALYZE 7.5 files (`read`, `write`, `writePrediction`).
///
/// Division of labour: our header probe (zlib) vets every file first; libnifti interprets the header
/// (qform/sform, quaternions, ANALYZE quirks) and writes files; our zlib reader reads the voxel bytes,
/// because libnifti's reader silently replaces NaN/Inf floats by 0 and its errors only go to stderr.
public enum NIfTI {
    /// Turns libnifti's stderr diagnostics off once per process (thread-safe lazy global).
    static let quiet: Void = cnifti_set_debug_level(0)
}

/// Facts about files on disk, as `VolumeError`s when something is off.
enum FileFacts {
    /// Size in bytes of a regular file; throws `missingFile` or `unreadable`.
    static func regularFileSize(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw VolumeError.missingFile(path: path) }
            throw VolumeError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw VolumeError.unreadable(path: path, reason: "it is a directory")
        }
        return Int(info.st_size)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Does the file start with the gzip magic bytes 1f 8b?
    static func isGzip(_ path: String) -> Bool {
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var magic: (UInt8, UInt8) = (0, 0)
        return fread(&magic, 1, 2, file) == 2 && magic == (0x1f, 0x8b)
    }
}

/// File names as libnifti understands them: `.nii[.gz]` single files, `.hdr[.gz]` + `.img[.gz]` pairs.
enum NIfTIPaths {
    /// The header to read for a user-given path: the path itself, or for an ANALYZE/NIfTI pair given by
    /// its `.img`, the `.hdr` next to it.
    static func header(for path: String) throws -> String {
        for imageSuffix in [".img", ".img.gz"] where path.hasSuffix(imageSuffix) {
            let base = String(path.dropLast(imageSuffix.count))
            let candidates = [base + ".hdr", base + ".hdr.gz"]
            guard let found = candidates.first(where: FileFacts.exists) else {
                throw VolumeError.missingFile(path: candidates[0])
            }
            return found
        }
        return path
    }

    /// The `.img` holding a pair's voxels, next to its header.
    static func pairedImage(forHeader path: String) throws -> String {
        guard let suffix = [".hdr.gz", ".hdr"].first(where: path.hasSuffix) else {
            throw VolumeError.invalidHeader(
                path: path, reason: "the header says the voxels are in a separate .img file, so it must be named .hdr")
        }
        let base = String(path.dropLast(suffix.count))
        let candidates = [base + ".img", base + ".img.gz"]
        guard let found = candidates.first(where: FileFacts.exists) else {
            throw VolumeError.missingFile(path: candidates[0])
        }
        return found
    }

    /// libnifti only opens names it knows, and decides on decompression by the `.gz` suffix.
    static func checkHeaderName(_ path: String, compressed: Bool) throws {
        let known = [".nii", ".nii.gz", ".hdr", ".hdr.gz"]
        guard known.contains(where: path.hasSuffix) else {
            throw VolumeError.invalidHeader(
                path: path, reason: "the name must end in .nii, .nii.gz, .hdr or .img (lower case)")
        }
        if compressed && !path.hasSuffix(".gz") {
            throw VolumeError.invalidHeader(
                path: path, reason: "the file is gzip-compressed but its name does not end in .gz; add .gz")
        }
    }
}
