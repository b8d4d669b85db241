/// The real-valued NIfTI voxel types, each converted to Float32 on reading. Raw values are the
/// NIfTI `datatype` codes (nifti1.h `DT_*`).
public enum NIfTIDatatype: Int, CaseIterable, Sendable, CustomStringConvertible {
    case uint8 = 2
    case int16 = 4
    case int32 = 8
    case float32 = 16
    case float64 = 64
    case int8 = 256
    case uint16 = 512
    case uint32 = 768
    case int64 = 1024
    case uint64 = 1280

    public var bytesPerVoxel: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    public var isInteger: Bool { self != .float32 && self != .float64 }

    /// Smallest and largest storable value (integers only; floats give ±infinity).
    var storableRange: ClosedRange<Double> {
        switch self {
        case .uint8: return 0...255
        case .int8: return -128...127
        case .int16: return -32768...32767
        case .uint16: return 0...65535
        case .int32: return -2_147_483_648...2_147_483_647
        case .uint32: return 0...4_294_967_295
        // Doubles just inside the 64-bit limits (2^63 and 2^64 themselves do not fit).
        case .int64: return -9_223_372_036_854_775_808...9_223_372_036_854_774_784
        case .uint64: return 0...18_446_744_073_709_549_568
        case .float32, .float64: return -Double.infinity...Double.infinity
        }
    }

    public var description: String { Self.name(ofCode: rawValue) }

    /// The lower-case name of any NIfTI datatype code, supported or not ("complex64", "rgb24", ...).
    public static func name(ofCode code: Int) -> String {
        switch code {
        case 0: return "unknown"
        case 1: return "binary"
        case 2: return "uint8"
        case 4: return "int16"
        case 8: return "int32"
        case 16: return "float32"
        case 32: return "complex64"
        case 64: return "float64"
        case 128: return "rgb24"
        case 256: return "int8"
        case 512: return "uint16"
        case 768: return "uint32"
        case 1024: return "int64"
        case 1280: return "uint64"
        case 1536: return "float128"
        case 1792: return "complex128"
        case 2048: return "complex256"
        case 2304: return "rgba32"
        default: return "code \(code)"
        }
    }
}

/// Which header flavour a file had.
public enum NIfTIFormat: String, Sendable, CustomStringConvertible {
    case nifti1 = "NIfTI-1"            // .nii / .nii.gz (magic "n+1")
    case nifti1Pair = "NIfTI-1 pair"   // .hdr + .img (magic "ni1")
    case nifti2 = "NIfTI-2"            // .nii / .nii.gz (magic "n+2")
    case nifti2Pair = "NIfTI-2 pair"   // .hdr + .img (magic "ni2")
    case analyze75 = "ANALYZE 7.5"     // .hdr + .img, no magic

    public var description: String { rawValue }
    var isPair: Bool { self != .nifti1 && self != .nifti2 }
    var headerSize: Int { self == .nifti2 || self == .nifti2Pair ? 540 : 348 }
}
