extension Affine {
    /// The world direction each voxel axis points to, as nibabel's `aff2axcodes`: "RAS" means i runs
    /// towards Right, j towards Anterior, k towards Superior; "LPS" is the DICOM/ITK convention. An axis
    /// that maps to no world direction (a degenerate matrix) gets "?".
    ///
    /// Method (nibabel `io_orientation`): normalise the columns of the 3×3 part, replace it by the
    /// nearest orthogonal matrix (polar decomposition), then give each voxel axis, in order, the world
    /// axis with the largest absolute entry that no earlier voxel axis took.
    public var axisCodes: String {
        var rs = [[Double]](repeating: [0, 0, 0], count: 3)   // rs[row][column]
        let zooms = columnNorms
        for r in 0..<3 {
            for c in 0..<3 { rs[r][c] = self[r, c] / (zooms[c] == 0 ? 1 : zooms[c]) }
        }
        var q = Self.orthogonalPolarFactor(rs) ?? rs
        let labels: [(negative: Character, positive: Character)] = [("L", "R"), ("P", "A"), ("I", "S")]
        var codes = ""
        for column in 0..<3 {
            let entries = (0..<3).map { q[$0][column] }
            guard let row = entries.indices.max(by: { abs(entries[$0]) < abs(entries[$1]) }),
                  abs(entries[row]) > 1e-8 else {
                codes.append("?")
                continue
            }
            codes.append(entries[row] < 0 ? labels[row].negative : labels[row].positive)
            q[row] = [0, 0, 0]
        }
        return codes
    }

    /// U·Vᵀ of the SVD U·S·Vᵀ of `m`, by Newton's iteration X ← (X + X⁻ᵀ)/2; nil for a singular matrix.
    static func orthogonalPolarFactor(_ m: [[Double]]) -> [[Double]]? {
        var x = m
        for _ in 0..<100 {
            guard let inverse = inverse3x3(x) else { return nil }
            var next = x
            var change = 0.0
            for r in 0..<3 {
                for c in 0..<3 {
                    next[r][c] = 0.5 * (x[r][c] + inverse[c][r])
                    change = max(change, abs(next[r][c] - x[r][c]))
                }
            }
            x = next
            if change < 1e-14 { break }
        }
        return x
    }

    static func inverse3x3(_ m: [[Double]]) -> [[Double]]? {
        let c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1]
        let c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2]
        let c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0]
        let det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02
        guard abs(det) > 1e-12, det.isFinite else { return nil }
        let inv = 1 / det
        return [
            [c00 * inv, (m[0][2] * m[2][1] - m[0][1] * m[2][2]) * inv, (m[0][1] * m[1][2] - m[0][2] * m[1][1]) * inv],
            [c01 * inv, (m[0][0] * m[2][2] - m[0][2] * m[2][0]) * inv, (m[0][2] * m[1][0] - m[0][0] * m[1][2]) * inv],
            [c02 * inv, (m[0][1] * m[2][0] - m[0][0] * m[2][1]) * inv, (m[0][0] * m[1][1] - m[0][1] * m[1][0]) * inv],
        ]
    }
}
