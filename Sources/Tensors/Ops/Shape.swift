/// Shape ops. `reshaped` is a view (shared storage); the others copy into a new contiguous tensor.
extension Tensor {
    /// The same values under another shape; one axis may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Profiler.measure("reshape", .forward) {
            var newShape = newShape
            if let hole = newShape.firstIndex(of: -1) {
                newShape[hole] = count / newShape.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            }
            precondition(newShape.elementCount == count, "cannot reshape \(shape) to \(newShape)")
            let y = Tensor(shape: newShape, storage: storage)
            return y.recording("reshape", [self]) { [x = slot] gy in
                if x.grad == nil {
                    // The same values under this tensor's shape: share the storage. The walk drops
                    // gy's own reference right after this closure, so nothing else writes to it.
                    x.grad = Tensor(shape: x.shape, storage: gy.storage)
                } else {
                    Kernels.add(gy.pointer, into: x.gradAccumulator().pointer, count: x.count)
                }
            }
        }
    }

    /// Axes reordered: result axis i is input axis `order[i]` (PyTorch's `permute`).
    public func permuted(_ order: [Int]) -> Tensor {
        Profiler.measure("permute", .forward) {
            precondition(order.sorted() == Array(0..<rank), "permutation \(order) for rank \(rank)")
            let outShape = order.map { shape[$0] }
            let inStrides = shape.strides
            let y = Tensor(uninitialized: outShape)
            Kernels.permute(pointer, strides: order.map { inStrides[$0] }, shape: outShape, into: y.pointer)
            return y.recording("permute", [self]) { [x = slot] gy in
                let (target, overwrite) = x.gradientTarget()
                if overwrite {
                    Kernels.scatter(gy.pointer, shape: outShape, into: target.pointer, strides: order.map { inStrides[$0] })
                } else {
                    Kernels.scatterAdd(gy.pointer, shape: outShape, into: target.pointer, strides: order.map { inStrides[$0] })
                }
            }
        }
    }

    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(a < 0 ? a + rank : a, b < 0 ? b + rank : b)
        return permuted(order)
    }

    /// The sub-tensor `ranges[i]` along each axis (a missing range keeps the whole axis).
    public func slice(_ ranges: [Range<Int>?]) -> Tensor {
        Profiler.measure("slice", .forward) {
            let bounds = shape.indices.map { axis in axis < ranges.count ? ranges[axis] ?? 0..<shape[axis] : 0..<shape[axis] }
            let outShape = bounds.map(\.count)
            let strides = shape.strides
            let start = zip(bounds, strides).map { $0.lowerBound * $1 }.reduce(0, +)
            let y = Tensor(uninitialized: outShape)
            Kernels.gather(pointer + start, strides: strides, shape: outShape, into: y.pointer)
            return y.recording("slice", [self]) { [x = slot] gy in
                Kernels.scatterAdd(gy.pointer, shape: outShape, into: x.gradAccumulator().pointer + start, strides: strides)
            }
        }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        var ranges = [Range<Int>?](repeating: nil, count: rank)
        ranges[axis < 0 ? axis + rank : axis] = range
        return slice(ranges)
    }

    /// Zero padding: `padding[i] = (before, after)` for axis i (missing axes unpadded).
    public func padded(_ padding: [(Int, Int)]) -> Tensor {
        Profiler.measure("pad", .forward) {
            let pads = shape.indices.map { $0 < padding.count ? padding[$0] : (0, 0) }
            if pads.allSatisfy({ $0 == (0, 0) }) { return self }
            let outShape = shape.indices.map { shape[$0] + pads[$0].0 + pads[$0].1 }
            let outStrides = outShape.strides
            let start = shape.indices.map { pads[$0].0 * outStrides[$0] }.reduce(0, +)
            let y = Tensor(zeros: outShape)
            Kernels.scatterAdd(pointer, shape: shape, into: y.pointer + start, strides: outStrides)
            return y.recording("pad", [self]) { [x = slot] gy in
                let (target, overwrite) = x.gradientTarget()
                if overwrite {
                    Kernels.gather(gy.pointer + start, strides: outStrides, shape: x.shape, into: target.pointer)
                } else {
                    let tmp = Tensor(uninitialized: x.shape)
                    Kernels.gather(gy.pointer + start, strides: outStrides, shape: x.shape, into: tmp.pointer)
                    Kernels.add(tmp.pointer, into: target.pointer, count: target.count)
                }
            }
        }
    }

    /// The tensor mirrored along `axes` (torch.flip).
    public func flipped(axes: [Int]) -> Tensor {
        Profiler.measure("flip", .forward) {
            let axes = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
            guard !axes.isEmpty else { return self }
            let own = shape.strides
            let strides = shape.indices.map { axes.contains($0) ? -own[$0] : own[$0] }
            let start = axes.map { (shape[$0] - 1) * own[$0] }.reduce(0, +)
            let y = Tensor(uninitialized: shape)
            Kernels.gather(pointer + start, strides: strides, shape: shape, into: y.pointer)
            return y.recording("flip", [self]) { [x = slot] gy in
                Kernels.scatterAdd(gy.pointer, shape: x.shape, into: x.gradAccumulator().pointer + start, strides: strides)
            }
        }
    }

    /// Cyclic shift by `shifts[i]` along `axes[i]` (torch.roll).
    public func rolled(shifts: [Int], axes: [Int]) -> Tensor {
        var y = self
        for (shift, axis) in zip(shifts, axes) {
            let axis = axis < 0 ? axis + rank : axis
            let n = shape[axis]
            let s = ((shift % n) + n) % n
            if s == 0 { continue }
            y = Tensor.concatenate([y.slice(axis: axis, (n - s)..<n), y.slice(axis: axis, 0..<(n - s))], axis: axis)
        }
        return y
    }

    /// Joins tensors along `axis`; all other axes must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        Profiler.measure("concatenate", .forward) {
            let first = parts[0]
            let axis = axis < 0 ? axis + first.rank : axis
            var outShape = first.shape
            outShape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
            for part in parts {
                precondition(part.rank == first.rank && part.shape.indices.allSatisfy { $0 == axis || part.shape[$0] == first.shape[$0] },
                             "cannot concatenate \(parts.map(\.shape)) along axis \(axis)")
            }
            let outer = outShape[..<axis].reduce(1, *)
            let outRow = outShape[axis...].reduce(1, *)
            let y = Tensor(uninitialized: outShape)
            var offsets: [Int] = []
            var offset = 0
            for part in parts {
                offsets.append(offset)
                let row = part.shape[axis...].reduce(1, *)
                for o in 0..<outer { (y.pointer + o * outRow + offset).update(from: part.pointer + o * row, count: row) }
                offset += row
            }
            if axis == 1 { y.gradientChannels = channelsNeedingGradient(parts) }
            return y.recording("concatenate", parts) { [parts = parts.map(\.slot)] gy in
                for (part, offset) in zip(parts, offsets) where part.requiresGrad {
                    let row = part.shape[axis...].reduce(1, *)
                    let (target, overwrite) = part.gradientTarget()
                    let g = target.pointer
                    for o in 0..<outer {
                        if overwrite {
                            Kernels.copy(gy.pointer + o * outRow + offset, into: g + o * row, count: row)
                        } else {
                            Kernels.add(gy.pointer + o * outRow + offset, into: g + o * row, count: row)
                        }
                    }
                }
            }
        }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: axis, start..<(start + size))
        }
    }
}

extension Tensor {
    /// The same values; during the backward pass `body` sees the gradient arriving here before it is
    /// passed on unchanged (for instrumentation such as the parity runner's kink search).
    public func observingGradient(_ body: @escaping (Tensor) -> Void) -> Tensor {
        let y = Tensor(shape: shape, storage: storage)
        return y.recording([self]) { [x = slot] gy in
            body(gy)
            Kernels.add(gy.pointer, into: x.gradAccumulator().pointer, count: x.count)
        }
    }
}

/// The axis-1 range covered by the parts that need a gradient, when those are contiguous and not all
/// of them (nil otherwise: every channel's gradient may be read).
private func channelsNeedingGradient(_ parts: [Tensor]) -> Range<Int>? {
    var offset = 0, needed: [Range<Int>] = []
    for part in parts {
        if part.requiresGrad { needed.append(offset..<(offset + part.shape[1])) }
        offset += part.shape[1]
    }
    guard let first = needed.first, let last = needed.last, needed.count < parts.count else { return nil }
    let span = first.lowerBound..<last.upperBound
    return needed.map(\.count).reduce(0, +) == span.count ? span : nil
}
