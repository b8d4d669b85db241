import Foundation
import Tensors
import Volumes

/// A write into the results folder that failed (full disk, read-only file system, no permission, a
/// file where a folder should be), as the error that stops the sweep, or nil for any other error.
///
/// Such a failure says nothing about the cell: recording it as a failed cell would make the sweep skip
/// that cell forever once space is freed. So it is not recorded; the sweep stops with one line naming
/// the path, finished records stay as they are, and the next run redoes the cell.
func resultsFolderFault(_ error: any Error) -> ResultStoreError? {
    switch error {
    case let fault as ResultStoreError:
        if case .notWritable = fault { return fault }
        return nil
    case SafetensorsError.cannotWrite(let file, let reason):
        return .notWritable(file, reason)
    case VolumeError.writeFailed(let path, let reason):
        return .notWritable(path, reason)
    case let cocoa as CocoaError where (CocoaError.Code.fileWriteUnknown.rawValue...CocoaError.Code.fileWriteVolumeReadOnly.rawValue)
        .contains(cocoa.code.rawValue):
        let path = cocoa.filePath ?? cocoa.url?.path ?? "?"
        return .notWritable(path, ResultStore.reason(cocoa))
    default:
        return nil
    }
}
