/// Walks an output shape in row-major order, in runs along its last axis, carrying the matching
/// offsets of up to two operands that may be broadcast (stride 0) or permuted (any strides).
/// Adjacent axes are merged first wherever every operand allows it, so broadcasting a bias over
/// NCDHW becomes runs of D·H·W, and same-shape operands become one long run.
struct StridedLoop {
    private(set) var sizes: [Int]
    private(set) var strides: [[Int]]   // per operand (0 = output), per axis

    /// `operandStrides[i]` are operand i's element strides for each axis of `shape`.
    init(shape: [Int], operandStrides: [[Int]]) {
        var sizes: [Int] = []
        var strides: [[Int]] = Array(repeating: [], count: operandStrides.count + 1)
        let outStrides = shape.strides
        for axis in shape.indices where shape[axis] != 1 {
            let axisStrides = [outStrides[axis]] + operandStrides.map { $0[axis] }
            if let last = sizes.indices.last,
               strides.indices.allSatisfy({ strides[$0][last] == axisStrides[$0] * shape[axis] }) {
                sizes[last] *= shape[axis]
                for o in strides.indices { strides[o][last] = axisStrides[o] }
            } else {
                sizes.append(shape[axis])
                for o in strides.indices { strides[o].append(axisStrides[o]) }
            }
        }
        if sizes.isEmpty {
            sizes = [1]
            for o in strides.indices { strides[o] = [1] }
        }
        self.sizes = sizes
        self.strides = strides
    }

    var runLength: Int { sizes[sizes.count - 1] }
    func runStride(_ operand: Int) -> Int { strides[operand][sizes.count - 1] }

    var runCount: Int { sizes.dropLast().reduce(1, *) }

    /// Calls `body(offsets)` once per run, with each operand's offset at the start of the run.
    func forEachRun(_ body: (_ offsets: UnsafePointer<Int>) -> Void) {
        forEachRun(in: 0..<runCount, body)
    }

    /// `forEachRun` spread over the workers, for loops whose runs write disjoint places (a copy
    /// through strides, a scatter to distinct elements): the result is then the serial loop's.
    func forEachRunInParallel(_ body: (_ offsets: UnsafePointer<Int>) -> Void) {
        Parallel.forEach(runCount, grain: max(1, 16384 / runLength)) { runs in forEachRun(in: runs, body) }
    }

    /// Runs `runs` (row-major run indices) in order.
    private func forEachRun(in runs: Range<Int>, _ body: (_ offsets: UnsafePointer<Int>) -> Void) {
        let outer = sizes.count - 1
        let operands = strides.count
        var index = [Int](repeating: 0, count: max(outer, 1))
        var offsets = [Int](repeating: 0, count: operands)
        var rest = runs.lowerBound
        for axis in stride(from: outer - 1, through: 0, by: -1) {
            index[axis] = rest % sizes[axis]
            rest /= sizes[axis]
            for o in 0..<operands { offsets[o] += index[axis] * strides[o][axis] }
        }
        offsets.withUnsafeMutableBufferPointer { offsets in
            for _ in runs {
                body(UnsafePointer(offsets.baseAddress!))
                var axis = outer - 1
                while axis >= 0 {
                    index[axis] += 1
                    for o in 0..<operands { offsets[o] += strides[o][axis] }
                    if index[axis] < sizes[axis] { break }
                    for o in 0..<operands { offsets[o] -= strides[o][axis] * sizes[axis] }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

/// Numpy broadcasting.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let rank = max(a.count, b.count)
    let pa = Array(repeating: 1, count: rank - a.count) + a
    let pb = Array(repeating: 1, count: rank - b.count) + b
    return zip(pa, pb).map { x, y in
        precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast")
        return max(x, y)
    }
}

/// The strides of `shape` read as if it had the shape `target` (0 along broadcast axes).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let padded = Array(repeating: 1, count: target.count - shape.count) + shape
    let own = padded.strides
    return padded.indices.map { padded[$0] == 1 && target[$0] != 1 ? 0 : own[$0] }
}

extension Kernels {
    /// `dst[broadcast index] += src[i]` over src's shape: sums a gradient back to a broadcast operand.
    static func accumulateReduced(_ src: UnsafePointer<Float>, shape: [Int],
                                  into dst: UnsafeMutablePointer<Float>, dstShape: [Int]) {
        if dstShape.elementCount == shape.elementCount {
            add(src, into: dst, count: shape.elementCount)
            return
        }
        let loop = StridedLoop(shape: shape, operandStrides: [broadcastStrides(dstShape, to: shape)])
        let n = loop.runLength, ds = loop.runStride(1)
        loop.forEachRun { o in
            let s = src + o[0], d = dst + o[1]
            if ds == 0 {
                d.pointee += sum(s, count: n)
            } else {
                for i in 0..<n { d[i * ds] += s[i] }
            }
        }
    }

    /// `dst[i] += src[broadcast index]` over dst's shape: spreads a reduced gradient back out.
    static func accumulateBroadcast(_ src: UnsafePointer<Float>, shape: [Int],
                                    into dst: UnsafeMutablePointer<Float>, dstShape: [Int]) {
        let loop = StridedLoop(shape: dstShape, operandStrides: [broadcastStrides(shape, to: dstShape)])
        let n = loop.runLength, ss = loop.runStride(1)
        loop.forEachRunInParallel { o in
            let d = dst + o[0], s = src + o[1]
            if ss == 0 {
                let v = s.pointee
                for i in 0..<n { d[i] += v }
            } else {
                for i in 0..<n { d[i] += s[i * ss] }
            }
        }
    }

    /// Copies `src` (with the given element strides for each axis of `shape`) into contiguous `dst`.
    static func gather(_ src: UnsafePointer<Float>, strides: [Int], shape: [Int], into dst: UnsafeMutablePointer<Float>) {
        let loop = StridedLoop(shape: shape, operandStrides: [strides])
        let n = loop.runLength, ss = loop.runStride(1)
        loop.forEachRunInParallel { o in
            let d = dst + o[0], s = src + o[1]
            if ss == 1 { d.update(from: s, count: n) } else { for i in 0..<n { d[i] = s[i * ss] } }
        }
    }

    /// Writes contiguous `src` into `dst` through strides (the inverse of `gather` for a permutation).
    static func scatter(_ src: UnsafePointer<Float>, shape: [Int], into dst: UnsafeMutablePointer<Float>, strides: [Int]) {
        let loop = StridedLoop(shape: shape, operandStrides: [strides])
        let n = loop.runLength, ds = loop.runStride(1)
        loop.forEachRunInParallel { o in
            let s = src + o[0], d = dst + o[1]
            if ds == 1 { d.update(from: s, count: n) } else { for i in 0..<n { d[i * ds] = s[i] } }
        }
    }

    /// Adds contiguous `src` into `dst` read through strides (the backward of `gather`; the strides
    /// must reach distinct elements, as a slice's, a flip's or a padding's do).
    static func scatterAdd(_ src: UnsafePointer<Float>, shape: [Int], into dst: UnsafeMutablePointer<Float>, strides: [Int]) {
        let loop = StridedLoop(shape: shape, operandStrides: [strides])
        let n = loop.runLength, ds = loop.runStride(1)
        loop.forEachRunInParallel { o in
            let s = src + o[0], d = dst + o[1]
            for i in 0..<n { d[i * ds] += s[i] }
        }
    }
}

extension Kernels {
    /// Contiguous copy of a permuted view (`strides` are the source strides in output-axis order).
    static func permute(_ src: UnsafePointer<Float>, strides: [Int], shape: [Int], into dst: UnsafeMutablePointer<Float>) {
        gather(src, strides: strides, shape: shape, into: dst)
    }
}
