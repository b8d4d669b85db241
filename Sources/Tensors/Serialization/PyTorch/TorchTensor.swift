/// A storage a checkpoint's tensors view: its key (the archive entry `data/<key>`, or the legacy
/// format's storage key), element type and element count. Shared by every tensor that views it.
public final class TorchStorage {
    public let key: String
    public let dtype: SafetensorsDType
    public let count: Int
    /// Byte range of its data in the file, bound after the pickle is read (nil until then).
    var byteRange: Range<Int>?

    init(key: String, dtype: SafetensorsDType, count: Int) {
        self.key = key
        self.dtype = dtype
        self.count = count
    }
}

/// A tensor as a checkpoint describes it: a strided view into a storage. Its values are read only
/// when asked for (`TorchCheckpoint.values(of:)`), so optimiser state that nobody loads costs nothing.
public struct TorchTensor {
    public let storage: TorchStorage
    /// In elements of the storage.
    public let offset: Int
    public let shape: [Int]
    /// In elements; PyTorch's strides are never negative.
    public let strides: [Int]

    public var dtype: SafetensorsDType { storage.dtype }
    public var elementCount: Int { shape.reduce(1, *) }

    /// Checks that the view lies inside its storage and fits in memory; `name` is for messages.
    static func make(storage: TorchStorage, offset: Int, shape: [Int], strides: [Int], file: String) throws -> TorchTensor {
        func fail(_ reason: String) -> TorchCheckpointError { .invalidTensor(file: file, reason: reason) }
        guard shape.count == strides.count else { throw fail("a tensor has shape \(shape) but strides \(strides)") }
        guard shape.count <= 64 else { throw fail("a tensor has \(shape.count) dimensions") }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), offset >= 0 else {
            throw fail("a tensor has a negative size, stride or offset (shape \(shape), strides \(strides), offset \(offset))")
        }
        var count = 1, last = offset
        for (size, stride) in zip(shape, strides) {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("the element count of shape \(shape) overflows") }
            count = product
            if size > 0 {
                let (reach, overflowReach) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflowSum) = last.addingReportingOverflow(reach)
                guard !overflowReach, !overflowSum else { throw fail("the strides \(strides) of shape \(shape) overflow") }
                last = sum
            }
        }
        if count > 0 {
            guard last < storage.count else {
                throw fail("a view of shape \(shape), strides \(strides) at offset \(offset) reaches element \(last) "
                           + "of storage '\(storage.key)', which has \(storage.count)")
            }
            // An overlapping view (stride 0, `expand`) could turn a few bytes into gigabytes; state_dicts never hold one.
            guard count <= storage.count else {
                throw fail("a view of shape \(shape) repeats the \(storage.count) elements of storage '\(storage.key)' "
                           + "(an expanded tensor); save tensor.contiguous() instead")
            }
        } else {
            guard offset <= storage.count else { throw fail("an empty tensor at offset \(offset) of a \(storage.count)-element storage") }
        }
        return TorchTensor(storage: storage, offset: offset, shape: shape, strides: strides)
    }
}
