import CNIfTI
import Foundation

/// A file opened for reading through zlib, which reads gzip streams and plain files alike, and maps
/// every short read to a `VolumeError` that says whether the file was cut short or damaged.
final class GzipFile {
    let path: String
    private let handle: gzFile

    init(path: String) throws {
        guard let handle = gzopen(path, "rb") else {
            let code = errno
            if code == ENOENT { throw VolumeError.missingFile(path: path) }
            throw VolumeError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        self.path = path
        self.handle = handle
        gzbuffer(handle, 32 * 1024)   // fewer reads than the 8 KiB default; must precede the first read
    }

    deinit { gzclose(handle) }

    /// False for a plain (uncompressed) file. Valid once something has been read.
    var isCompressed: Bool { gzdirect(handle) == 0 }

    /// Reads up to `count` bytes; returns how many arrived before the end of the data. Throws on a
    /// damaged or cut-off gzip stream and on I/O errors.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var done = 0
        while done < count {
            let chunk = UInt32(min(count - done, 1 << 30))
            let got = gzread(handle, buffer + done, chunk)
            if got > 0 { done += Int(got) }
            if got < Int32(chunk) {
                try throwIfStreamError()
                break
            }
        }
        return done
    }

    /// Reads exactly `count` bytes or throws `truncated`, saying what was being read.
    func readExactly(into buffer: UnsafeMutableRawPointer, count: Int, what: String) throws {
        let got: Int
        do {
            got = try read(into: buffer, count: count)
        } catch VolumeError.truncated(_, let reason) {
            throw VolumeError.truncated(path: path, reason: "\(reason) inside the \(what)")
        }
        if got < count {
            throw VolumeError.truncated(
                path: path, reason: "the file ends \(got) bytes into the \(what)")
        }
    }

    /// Positions the next read at `offset` bytes of uncompressed data (emulated by zlib for gzip).
    func seek(to offset: Int) throws {
        if gzseek(handle, offset, SEEK_SET) < 0 {
            try throwIfStreamError()
            throw VolumeError.truncated(path: path, reason: "cannot reach byte \(offset) of the data")
        }
    }

    /// After the last needed byte: reading on must not hit a stream error, so a gzip file that lost
    /// its end (the 8-byte checksum trailer) or fails its checksum is reported, not silently accepted.
    func requireIntactEnd() throws {
        var byte: UInt8 = 0
        if gzread(handle, &byte, 1) < 1 { try throwIfStreamError() }
    }

    private func throwIfStreamError() throws {
        var code: Int32 = Z_OK
        let message = String(cString: gzerror(handle, &code))
        switch code {
        case Z_OK, Z_STREAM_END:
            return
        case Z_BUF_ERROR:
            throw VolumeError.truncated(path: path, reason: "the gzip stream ends unexpectedly")
        case Z_DATA_ERROR:
            throw VolumeError.corrupt(path: path, reason: message)
        case Z_ERRNO:
            throw VolumeError.unreadable(path: path, reason: String(cString: strerror(errno)))
        default:
            throw VolumeError.unreadable(path: path, reason: "zlib: \(message)")
        }
    }
}
