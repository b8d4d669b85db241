import Foundation

/// What is wrong with a safetensors file, in one line that names the file.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case cannotRead(file: String, reason: String)
    /// Fewer than the 8 bytes of the header length.
    case fileTooShort(file: String, byteCount: Int)
    /// The header length is larger than the file or than `SafetensorsArchive.maximumHeaderLength`.
    case headerLengthInvalid(file: String, headerLength: UInt64, fileSize: Int)
    /// Not JSON, not an object, or a tensor entry without dtype/shape/data_offsets of the right types.
    case malformedHeader(file: String, reason: String)
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A negative dimension, or an element or byte count that overflows.
    case invalidShape(file: String, tensor: String, reason: String)
    /// `end - begin` differs from elements × dtype size.
    case sizeMismatch(file: String, tensor: String, shape: [Int], dtype: SafetensorsDType, expectedBytes: Int, actualBytes: Int)
    /// Offsets decreasing or past the end of the data section.
    case invalidOffsets(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    case overlappingData(file: String, tensor: String, other: String)
    /// A hole between tensors or bytes after the last one.
    case dataNotContiguous(file: String, reason: String)
    case duplicateName(file: String, tensor: String)
    /// An integer too large for exact Float32 (reading), or a value the target dtype cannot hold (writing).
    case valueNotRepresentable(file: String, tensor: String, dtype: SafetensorsDType, value: String)
    case cannotWrite(file: String, reason: String)

    public var description: String {
        switch self {
        case .cannotRead(let file, let reason):
            return "\(file): cannot read: \(reason)"
        case .fileTooShort(let file, let byteCount):
            return "\(file): only \(byteCount) bytes; a safetensors file starts with an 8-byte header length (truncated or not a safetensors file?)"
        case .headerLengthInvalid(let file, let headerLength, let fileSize):
            let limit = SafetensorsArchive.maximumHeaderLength
            let why = headerLength > UInt64(limit)
                ? "more than the \(limit)-byte limit" : "more than the \(max(fileSize - 8, 0)) bytes that follow it"
            return "\(file): header length \(headerLength) is \(why) (truncated or not a safetensors file?)"
        case .malformedHeader(let file, let reason):
            return "\(file): malformed header: \(reason)"
        case .unknownDType(let file, let tensor, let dtype):
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(file): tensor '\(tensor)' has unsupported dtype '\(dtype)' (supported: \(known))"
        case .invalidShape(let file, let tensor, let reason):
            return "\(file): tensor '\(tensor)' has an invalid shape: \(reason)"
        case .sizeMismatch(let file, let tensor, let shape, let dtype, let expectedBytes, let actualBytes):
            return "\(file): tensor '\(tensor)' of shape \(shape) and dtype \(dtype.rawValue) needs \(expectedBytes) bytes but its data_offsets span \(actualBytes)"
        case .invalidOffsets(let file, let tensor, let begin, let end, let dataSize):
            let why = begin < 0 ? "a negative offset" : begin > end ? "begin after end"
                : "outside the \(dataSize)-byte data section (truncated file?)"
            return "\(file): tensor '\(tensor)' has data_offsets [\(begin), \(end)]: \(why)"
        case .overlappingData(let file, let tensor, let other):
            return "\(file): the data of tensor '\(tensor)' overlaps that of '\(other)'"
        case .dataNotContiguous(let file, let reason):
            return "\(file): the data section is not exactly covered by the tensors: \(reason)"
        case .duplicateName(let file, let tensor):
            return "\(file): the tensor name '\(tensor)' appears more than once"
        case .valueNotRepresentable(let file, let tensor, let dtype, let value):
            return "\(file): tensor '\(tensor)' (\(dtype.rawValue)): \(value)"
        case .cannotWrite(let file, let reason):
            return "\(file): cannot write: \(reason)"
        }
    }
}
