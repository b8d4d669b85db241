import CLAPACKE

/// A thin singular value decomposition `A = U · diag(S) · Vᵀ` of an m×n matrix, in Float32
/// (LAPACK's sgesdd), with singular values in decreasing order.
public struct SingularValueDecomposition {
    /// m × k, row-major (k = min(m, n)).
    public let u: Tensor
    /// k values, decreasing.
    public let s: [Float]
    /// k × n, row-major: the rows are the right singular vectors.
    public let vt: Tensor
}

public struct LinearAlgebraError: Error, CustomStringConvertible {
    public let description: String
}

/// Thin SVD of a row-major matrix [m, n].
public func singularValueDecomposition(_ a: Tensor) throws -> SingularValueDecomposition {
    precondition(a.rank == 2, "SVD of a matrix; got shape \(a.shape)")
    let m = a.shape[0], n = a.shape[1], k = min(m, n)
    let work = a.detached()  // sgesdd destroys its input
    let u = Tensor(uninitialized: [m, k]), vt = Tensor(uninitialized: [k, n])
    var s = [Float](repeating: 0, count: k)
    let info = s.withUnsafeMutableBufferPointer { s in
        LAPACKE_sgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), work.pointer, Int32(n),
                       s.baseAddress, u.pointer, Int32(k), vt.pointer, Int32(n))
    }
    guard info == 0 else {
        throw LinearAlgebraError(description: info < 0 ? "sgesdd: invalid argument \(-info)" : "sgesdd did not converge (\(info))")
    }
    return SingularValueDecomposition(u: u, s: s, vt: vt)
}

/// Thin SVD of a complex matrix (real and imaginary parts given separately, row-major m×n), in
/// Float32 (LAPACK's cgesdd): `A = U · diag(S) · Vᴴ`, U m×k, Vᴴ k×n, each as (real, imaginary).
public func complexSingularValueDecomposition(real: [Float], imaginary: [Float], rows m: Int, columns n: Int) throws
    -> (uReal: [Float], uImaginary: [Float], s: [Float], vhReal: [Float], vhImaginary: [Float]) {
    let k = min(m, n)
    var a = (0..<(m * n)).map { _lapack_complex_float(real: real[$0], imag: imaginary[$0]) }
    var u = [_lapack_complex_float](repeating: .init(real: 0, imag: 0), count: m * k)
    var vh = [_lapack_complex_float](repeating: .init(real: 0, imag: 0), count: k * n)
    var s = [Float](repeating: 0, count: k)
    let info = LAPACKE_cgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), &a, Int32(n), &s,
                              &u, Int32(k), &vh, Int32(n))
    guard info == 0 else {
        throw LinearAlgebraError(description: info < 0 ? "cgesdd: invalid argument \(-info)" : "cgesdd did not converge (\(info))")
    }
    return (u.map(\.real), u.map(\.imag), s, vh.map(\.real), vh.map(\.imag))
}
