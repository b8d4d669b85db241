/// Axis permutations and flips that bring a voxel grid to given axis codes (nibabel's
/// `io_orientation` + `apply_orientation`), exact: no interpolation.
struct Reorientation: Equatable {
    /// For each output axis, the input axis it reads.
    var sourceAxis: [Int]
    /// For each output axis, whether it runs against its input axis.
    var flipped: [Bool]

    init(sourceAxis: [Int], flipped: [Bool]) {
        self.sourceAxis = sourceAxis
        self.flipped = flipped
    }

    var isIdentity: Bool { sourceAxis == [0, 1, 2] && flipped == [false, false, false] }

    /// The transform from grids with axis codes `from` (e.g. "LPS") to `to` (e.g. "RAS"); nil when
    /// either is not a valid code (e.g. "?" for a degenerate affine).
    init?(from: String, to: String) {
        func parse(_ code: String) -> [(axis: Int, positive: Bool)]? {
            let parsed = code.uppercased().map { letter -> (axis: Int, positive: Bool)? in
                switch letter {
                case "R": return (0, true)
                case "L": return (0, false)
                case "A": return (1, true)
                case "P": return (1, false)
                case "S": return (2, true)
                case "I": return (2, false)
                default: return nil
                }
            }
            guard parsed.count == 3, parsed.allSatisfy({ $0 != nil }) else { return nil }
            let values = parsed.map { $0! }
            return Set(values.map(\.axis)).count == 3 ? values : nil
        }
        guard let source = parse(from), let target = parse(to) else { return nil }
        let axes = target.map { t in source.firstIndex { $0.axis == t.axis }! }
        sourceAxis = axes
        flipped = target.enumerated().map { b, t in source[axes[b]].positive != t.positive }
    }

    /// Output size (i, j, k) for an input of `size`.
    func outputSize(_ size: [Int]) -> [Int] { sourceAxis.map { size[$0] } }

    /// The matrix taking output voxel coordinates to input voxel coordinates (compose with the input
    /// affine on the right: A_out = A_in · M).
    func outputToInput(_ size: [Int]) -> Matrix4 {
        var m = [Double](repeating: 0, count: 16)
        m[15] = 1
        for b in 0..<3 {
            let a = sourceAxis[b]
            m[a * 4 + b] = flipped[b] ? -1 : 1
            m[a * 4 + 3] = flipped[b] ? Double(size[a] - 1) : 0
        }
        return Matrix4(m)
    }

    /// Rearranges voxels (NIfTI order, i fastest) of a grid of `size`.
    func apply(_ voxels: [Float], size: [Int]) -> [Float] {
        if isIdentity { return voxels }
        let inStrides = [1, size[0], size[0] * size[1]]
        let out = outputSize(size)
        var step = [Int](repeating: 0, count: 3)
        var base = 0
        for b in 0..<3 {
            let a = sourceAxis[b]
            step[b] = flipped[b] ? -inStrides[a] : inStrides[a]
            if flipped[b] { base += (size[a] - 1) * inStrides[a] }
        }
        return [Float](unsafeUninitializedCapacity: voxels.count) { buffer, initialized in
            voxels.withUnsafeBufferPointer { src in
                var n = 0
                for k in 0..<out[2] {
                    for j in 0..<out[1] {
                        var index = base + k * step[2] + j * step[1]
                        for _ in 0..<out[0] {
                            buffer[n] = src[index]
                            index += step[0]
                            n += 1
                        }
                    }
                }
            }
            initialized = voxels.count
        }
    }
}

extension CaseGrid {
    /// Brings image and label to the axis codes `target`; throws a reason when the affine has no clear
    /// axis directions.
    mutating func reorient(to target: String) throws(PreprocessFailure) {
        let codes = affine.affine.axisCodes
        guard let transform = Reorientation(from: codes, to: target) else {
            throw PreprocessFailure(
                "the affine gives no clear axis directions (\(codes)); set preprocessing.orientation: keep")
        }
        guard !transform.isIdentity else { return }
        image = transform.apply(image, size: size)
        label = transform.apply(label, size: size)
        affine = affine * transform.outputToInput(size)
        size = transform.outputSize(size)
    }
}

/// Why a step of preprocessing cannot be done for a case (becomes `DataError.caseFailed`).
struct PreprocessFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
