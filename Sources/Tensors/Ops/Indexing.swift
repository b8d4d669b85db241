/// Rows of `table` [R, C] picked by `indices` → [indices.count, C]; the backward adds each row's
/// gradient back onto its source row (a relative-position bias table read through its index).
public func gatherRows(_ table: Tensor, indices: [Int]) -> Tensor {
    Profiler.measure("gatherRows", .forward) {
        let width = table.shape[1]
        let y = Tensor(uninitialized: [indices.count, width])
        for (r, index) in indices.enumerated() {
            precondition(index >= 0 && index < table.shape[0], "row index \(index) outside a table of \(table.shape[0])")
            (y.pointer + r * width).update(from: table.pointer + index * width, count: width)
        }
        return y.recording("gatherRows", [table]) { [table = table.slot] gy in
            let g = table.gradAccumulator().pointer
            for (r, index) in indices.enumerated() {
                let src = gy.pointer + r * width, dst = g + index * width
                for c in 0..<width { dst[c] += src[c] }
            }
        }
    }
}
