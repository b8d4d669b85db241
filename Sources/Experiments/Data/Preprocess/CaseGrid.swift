import Volumes

/// A row-major 4×4 voxel-to-world matrix in Double, for composing the geometric preprocessing steps.
struct Matrix4: Equatable, Sendable {
    var m: [Double]

    init(_ m: [Double]) { self.m = m }
    init(_ affine: Affine) { m = affine.rows.flatMap { $0 } }

    static let identity = Matrix4([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])

    subscript(r: Int, c: Int) -> Double {
        get { m[r * 4 + c] }
        set { m[r * 4 + c] = newValue }
    }

    var affine: Affine { Affine(rows: (0..<4).map { Array(m[$0 * 4..<$0 * 4 + 4]) })! }

    static func * (a: Matrix4, b: Matrix4) -> Matrix4 {
        var out = [Double](repeating: 0, count: 16)
        for r in 0..<4 { for c in 0..<4 { out[r * 4 + c] = (0..<4).reduce(0) { $0 + a[r, $1] * b[$1, c] } } }
        return Matrix4(out)
    }

    static func translation(_ t: [Double]) -> Matrix4 {
        var out = identity
        for axis in 0..<3 { out[axis, 3] = t[axis] }
        return out
    }

    static func scaling(_ s: [Double]) -> Matrix4 {
        var out = identity
        for axis in 0..<3 { out[axis, axis] = s[axis] }
        return out
    }

    func apply(_ p: [Double]) -> [Double] {
        (0..<3).map { r in self[r, 0] * p[0] + self[r, 1] * p[1] + self[r, 2] * p[2] + self[r, 3] }
    }

    /// Length of each voxel axis in world units.
    var columnNorms: [Double] {
        (0..<3).map { c in ((0..<3).map { self[$0, c] * self[$0, c] }.reduce(0, +)).squareRoot() }
    }

    /// Inverse of an affine matrix (last row 0 0 0 1); nil when the 3×3 part is singular.
    func inverse() -> Matrix4? {
        let a = self
        let c00 = a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]
        let c01 = a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]
        let c02 = a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]
        let det = a[0, 0] * c00 + a[0, 1] * c01 + a[0, 2] * c02
        guard abs(det) > 1e-12, det.isFinite else { return nil }
        let d = 1 / det
        let r: [[Double]] = [
            [c00 * d, (a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2]) * d, (a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]) * d],
            [c01 * d, (a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]) * d, (a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2]) * d],
            [c02 * d, (a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]) * d, (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]) * d],
        ]
        var out = Matrix4.identity
        for i in 0..<3 {
            for j in 0..<3 { out[i, j] = r[i][j] }
            out[i, 3] = -(0..<3).reduce(0) { $0 + r[i][$1] * a[$1, 3] }
        }
        return out
    }
}

/// An image and its label on one voxel grid while they are being prepared: voxels in NIfTI order
/// (i fastest), `size` = (i, j, k), `affine` = voxel → world (mm).
struct CaseGrid {
    var size: [Int]
    var image: [Float]
    var label: [Float]
    var affine: Matrix4

    var count: Int { size[0] * size[1] * size[2] }

    /// Voxel size in mm along i, j, k (the affine's column norms).
    var spacing: [Double] { affine.columnNorms }

    /// Largest grid a preprocessing step may produce (2^28 voxels, 1 GiB per Float array): a typo such
    /// as `spacing: [0.001, 1, 1]` or a huge box must fail with a message, not exhaust memory.
    static let maxVoxels = 1 << 28

    /// Refuses a planned grid above `maxVoxels` (sizes as Double, so absurd ones cannot overflow).
    static func checkSize(_ size: [Double], what: String) throws(PreprocessFailure) {
        let total = size.reduce(1, *)
        guard size.allSatisfy({ $0 >= 1 && $0 <= Double(maxVoxels) }), total <= Double(maxVoxels) else {
            throw PreprocessFailure(
                "\(what) would make a grid of \(size.map { $0 < 1e15 ? String(Int($0)) : String($0) }) voxels, more than "
                    + "\(maxVoxels); check the preprocessing sizes")
        }
    }
}

/// The integer nearest below `x`, or nil when `x` is not a plausible voxel coordinate (NaN, huge).
@inline(__always)
func voxelIndex(_ x: Double) -> Int? {
    guard x.isFinite, abs(x) < 1e9 else { return nil }
    return Int(x.rounded(.down))
}
