/// Conversion between stored voxel bytes and Float32: one tight loop per datatype over raw
/// pointers, byte-swapping when the file's byte order differs from this machine's.
enum VoxelCodec {
    /// NIfTI scaling is applied when the slope is set (non-zero) and is not the identity.
    static func scales(slope: Double, intercept: Double) -> Bool {
        slope != 0 && slope.isFinite && !(slope == 1 && intercept == 0)
    }

    /// Decodes `out.count` voxels of `datatype` from `raw`, applying value = slope·stored + intercept
    /// (in Double, then rounded to Float, as nibabel's float64 path followed by a float32 cast).
    static func decode(
        _ raw: UnsafeRawPointer, datatype: NIfTIDatatype, swapped: Bool, slope: Double, intercept: Double,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        let scaled = scales(slope: slope, intercept: intercept)
        let inter = scaled ? intercept : 0
        let slope = scaled ? slope : 1
        switch datatype {
        case .uint8: integers(raw, UInt8.self, swapped, scaled, slope, inter, out)
        case .int8: integers(raw, Int8.self, swapped, scaled, slope, inter, out)
        case .int16: integers(raw, Int16.self, swapped, scaled, slope, inter, out)
        case .uint16: integers(raw, UInt16.self, swapped, scaled, slope, inter, out)
        case .int32: integers(raw, Int32.self, swapped, scaled, slope, inter, out)
        case .uint32: integers(raw, UInt32.self, swapped, scaled, slope, inter, out)
        case .int64: integers(raw, Int64.self, swapped, scaled, slope, inter, out)
        case .uint64: integers(raw, UInt64.self, swapped, scaled, slope, inter, out)
        case .float32:
            let src = raw.assumingMemoryBound(to: UInt32.self)
            for n in 0..<out.count {
                let bits = swapped ? src[n].byteSwapped : src[n]
                let value = Float(bitPattern: bits)
                out[n] = scaled ? Float(Double(value) * slope + inter) : value
            }
        case .float64:
            let src = raw.assumingMemoryBound(to: UInt64.self)
            for n in 0..<out.count {
                let bits = swapped ? src[n].byteSwapped : src[n]
                out[n] = Float(Double(bitPattern: bits) * slope + inter)
            }
        }
    }

    @inline(__always)
    private static func integers<T: FixedWidthInteger>(
        _ raw: UnsafeRawPointer, _: T.Type, _ swapped: Bool, _ scaled: Bool, _ slope: Double, _ inter: Double,
        _ out: UnsafeMutableBufferPointer<Float>
    ) {
        let src = raw.assumingMemoryBound(to: T.self)
        switch (swapped, scaled) {
        case (false, false): for n in 0..<out.count { out[n] = Float(src[n]) }
        case (true, false): for n in 0..<out.count { out[n] = Float(src[n].byteSwapped) }
        case (false, true): for n in 0..<out.count { out[n] = Float(Double(src[n]) * slope + inter) }
        case (true, true): for n in 0..<out.count { out[n] = Float(Double(src[n].byteSwapped) * slope + inter) }
        }
    }

    /// A voxel that cannot be stored in the requested type: its flat index and value.
    struct Unstorable: Error {
        var index: Int
        var value: Float
    }

    /// Encodes voxels as `datatype` in this machine's byte order, storing (value − intercept) / slope
    /// (rounded to the nearest integer for integer types). Throws for NaN/infinite values and values
    /// outside an integer type's range.
    static func encode(_ voxels: [Float], as datatype: NIfTIDatatype, slope: Double, intercept: Double) throws
        -> [UInt8]
    {
        let scaled = scales(slope: slope, intercept: intercept)
        let slope = scaled ? slope : 1
        let inter = scaled ? intercept : 0
        var bytes = [UInt8](repeating: 0, count: voxels.count * datatype.bytesPerVoxel)
        var bad: Unstorable?
        bytes.withUnsafeMutableBytes { raw in
            voxels.withUnsafeBufferPointer { src in
                let out = raw.baseAddress!
                switch datatype {
                case .uint8: bad = storeIntegers(src, out, UInt8.self, slope, inter, datatype.storableRange)
                case .int8: bad = storeIntegers(src, out, Int8.self, slope, inter, datatype.storableRange)
                case .int16: bad = storeIntegers(src, out, Int16.self, slope, inter, datatype.storableRange)
                case .uint16: bad = storeIntegers(src, out, UInt16.self, slope, inter, datatype.storableRange)
                case .int32: bad = storeIntegers(src, out, Int32.self, slope, inter, datatype.storableRange)
                case .uint32: bad = storeIntegers(src, out, UInt32.self, slope, inter, datatype.storableRange)
                case .int64: bad = storeIntegers(src, out, Int64.self, slope, inter, datatype.storableRange)
                case .uint64: bad = storeIntegers(src, out, UInt64.self, slope, inter, datatype.storableRange)
                case .float32:
                    let dst = out.bindMemory(to: Float.self, capacity: src.count)
                    for n in 0..<src.count { dst[n] = Float((Double(src[n]) - inter) / slope) }
                case .float64:
                    let dst = out.bindMemory(to: Double.self, capacity: src.count)
                    for n in 0..<src.count { dst[n] = (Double(src[n]) - inter) / slope }
                }
            }
        }
        if let bad { throw bad }
        return bytes
    }

    @inline(__always)
    private static func storeIntegers<T: FixedWidthInteger>(
        _ src: UnsafeBufferPointer<Float>, _ out: UnsafeMutableRawPointer, _: T.Type, _ slope: Double,
        _ inter: Double, _ range: ClosedRange<Double>
    ) -> Unstorable? {
        let dst = out.bindMemory(to: T.self, capacity: src.count)
        let low = range.lowerBound
        let high = range.upperBound
        for n in 0..<src.count {
            let value = ((Double(src[n]) - inter) / slope).rounded()
            // NaN fails both comparisons and is reported as well.
            guard value >= low, value <= high else { return Unstorable(index: n, value: src[n]) }
            dst[n] = T(value)
        }
        return nil
    }
}
