/// 3-D convolution of x [N, Ci, D, H, W] with weight [Co, Ci, kd, kh, kw] (PyTorch's Conv3d).
public func conv3d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: [Int] = [1, 1, 1], padding: [Int] = [0, 0, 0]) -> Tensor {
    Profiler.measure(label: convLabel("conv3d", x.shape, weight.shape, stride), .forward) {
        precondition(x.rank == 5 && weight.rank == 5 && x.shape[1] == weight.shape[1],
                     "conv3d: input \(x.shape) for weight \(weight.shape)")
        let n = x.shape[0]
        let g = ConvGeometry(inChannels: weight.shape[1], outChannels: weight.shape[0], input: Array(x.shape[2...]),
                             kernel: Array(weight.shape[2...]), stride: stride, padding: padding)
        let inVolume = g.inChannels * g.inputVolume, outVolume = g.outChannels * g.outputVolume
        let y = Tensor(uninitialized: [n, g.outChannels] + g.output)
        for i in 0..<n {
            Kernels.convForward(x.pointer + i * inVolume, weight: weight.pointer, into: y.pointer + i * outVolume, g)
        }
        if let bias { addChannelBias(bias, to: y) }
        // The data gradient reads the weight and the weight gradient reads x: keep each only for that.
        return y.recording(label: convLabel("conv3d", x.shape, weight.shape, stride), [x, weight] + (bias.map { [$0] } ?? []))
        { [xSlot = x.slot, weightSlot = weight.slot, bias = bias?.slot,
           x = weight.requiresGrad ? x : nil, weight = x.requiresGrad ? weight : nil] gy in
            let dx = xSlot.requiresGrad ? xSlot.gradientTarget() : nil
            let dw = weightSlot.requiresGrad ? weightSlot.gradientTarget() : nil
            if let needed = xSlot.gradientChannels, let dx, let weight {
                // Only some input channels' gradients are read: the data gradient of those alone.
                let part = withoutGrad { weight.slice(axis: 1, needed) }
                var partGeometry = g
                partGeometry.inChannels = needed.count
                for i in 0..<n {
                    if let dw, let x {
                        Kernels.convBackward(x.pointer + i * inVolume, gy.pointer + i * outVolume, weight: weight.pointer,
                                             dx: nil, dw: dw.tensor.pointer, g, overwriteWeight: dw.overwrite && i == 0)
                    }
                    Kernels.convBackwardData(gy.pointer + i * outVolume, weight: part.pointer,
                                             into: dx.tensor.pointer + i * inVolume + needed.lowerBound * g.inputVolume,
                                             partGeometry, overwrite: dx.overwrite)
                }
            } else if dx != nil || dw != nil {
                // The kernel reads x only for dw and the weight only for dx: gy stands in for the other.
                let (px, pw) = (x?.pointer ?? gy.pointer, weight?.pointer ?? gy.pointer)
                for i in 0..<n {
                    Kernels.convBackward(px + i * inVolume, gy.pointer + i * outVolume, weight: pw,
                                         dx: dx.map { $0.tensor.pointer + i * inVolume }, dw: dw?.tensor.pointer, g,
                                         overwriteData: dx?.overwrite ?? false, overwriteWeight: (dw?.overwrite ?? false) && i == 0)
                }
            }
            if let bias, bias.requiresGrad { accumulateChannelBiasGradient(gy, into: bias) }
        }
    }
}

/// Transposed 3-D convolution of x [N, Ci, D, H, W] with weight [Ci, Co, kd, kh, kw]
/// (PyTorch's ConvTranspose3d; output size (D − 1)·s − 2p + k). It is the adjoint of a convolution
/// from the output space back to the input space, so it reuses that convolution's kernels.
public func convTranspose3d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: [Int], padding: [Int] = [0, 0, 0]) -> Tensor {
    Profiler.measure(label: convLabel("convTranspose3d", x.shape, weight.shape, stride), .forward) {
        precondition(x.rank == 5 && weight.rank == 5 && x.shape[1] == weight.shape[0],
                     "convTranspose3d: input \(x.shape) for weight \(weight.shape)")
        let n = x.shape[0], kernel = Array(weight.shape[2...])
        let outSize: [Int] = (0..<3).map { axis in
            let span: Int = (x.shape[2 + axis] - 1) * stride[axis]
            return span - 2 * padding[axis] + kernel[axis]
        }
        // The adjoint convolution: from y-space (Co channels) to x-space (Ci channels).
        let g = ConvGeometry(inChannels: weight.shape[1], outChannels: weight.shape[0], input: outSize,
                             kernel: kernel, stride: stride, padding: padding)
        precondition(g.output == Array(x.shape[2...]), "convTranspose3d: inconsistent sizes for input \(x.shape)")
        let inVolume = g.outChannels * g.outputVolume, outVolume = g.inChannels * g.inputVolume
        let y: Tensor
        if g.isPatchwise {
            y = Tensor(uninitialized: [n, g.inChannels] + outSize)
            for i in 0..<n {
                Kernels.patchwiseTransposedForward(x.pointer + i * inVolume, weight: weight.pointer,
                                                   into: y.pointer + i * outVolume, g)
            }
        } else {
            y = Tensor(uninitialized: [n, g.inChannels] + outSize)
            for i in 0..<n {
                Kernels.convBackwardData(x.pointer + i * inVolume, weight: weight.pointer, into: y.pointer + i * outVolume, g,
                                         overwrite: true)
            }
        }
        if let bias { addChannelBias(bias, to: y) }
        return y.recording(label: convLabel("convTranspose3d", x.shape, weight.shape, stride), [x, weight] + (bias.map { [$0] } ?? []))
        { [xSlot = x.slot, weightSlot = weight.slot, bias = bias?.slot,
           x = weight.requiresGrad ? x : nil, weight = x.requiresGrad ? weight : nil] gy in
            if g.isPatchwise {
                let dx = xSlot.requiresGrad ? xSlot.gradientTarget() : nil
                let dw = weightSlot.requiresGrad ? weightSlot.gradientTarget() : nil
                let (px, pw) = (x?.pointer ?? gy.pointer, weight?.pointer ?? gy.pointer)  // as in conv3d
                for i in 0..<n where dx != nil || dw != nil {
                    Kernels.patchwiseTransposedBackward(px + i * inVolume, gy.pointer + i * outVolume,
                                                        weight: pw, dx: dx.map { $0.tensor.pointer + i * inVolume },
                                                        dw: dw?.tensor.pointer, g, overwriteData: dx?.overwrite ?? false,
                                                        overwriteWeight: (dw?.overwrite ?? false) && i == 0)
                }
                if let bias, bias.requiresGrad { accumulateChannelBiasGradient(gy, into: bias) }
                return
            }
            let scratch = xSlot.requiresGrad ? Tensor(uninitialized: Array(xSlot.shape[1...])) : nil
            for i in 0..<n {
                if let scratch, let weight {
                    Kernels.convForward(gy.pointer + i * outVolume, weight: weight.pointer, into: scratch.pointer, g)
                    Kernels.add(scratch.pointer, into: xSlot.gradAccumulator().pointer + i * inVolume, count: inVolume)
                }
                if let x, weightSlot.requiresGrad {
                    Kernels.convBackwardWeight(gy.pointer + i * outVolume, x.pointer + i * inVolume,
                                               into: weightSlot.gradAccumulator().pointer, g)
                }
            }
            if let bias, bias.requiresGrad { accumulateChannelBiasGradient(gy, into: bias) }
        }
    }
}

/// y[n, c, …] += bias[c].
private func addChannelBias(_ bias: Tensor, to y: Tensor) {
    let channels = y.shape[1], volume = y.shape[2...].reduce(1, *)
    for n in 0..<y.shape[0] {
        for c in 0..<channels {
            let p = y.pointer + (n * channels + c) * volume, b = bias.pointer[c]
            for i in 0..<volume { p[i] += b }
        }
    }
}

private func accumulateChannelBiasGradient(_ gy: Tensor, into bias: GradSlot) {
    let channels = gy.shape[1], volume = gy.shape[2...].reduce(1, *)
    let gb = bias.gradAccumulator().pointer
    for n in 0..<gy.shape[0] {
        for c in 0..<channels { gb[c] += Kernels.sum(gy.pointer + (n * channels + c) * volume, count: volume) }
    }
}

/// The profiler's entry name: the op, and with HIPPOPEFT_PROFILE=2 its channels, kernel, stride and input size.
private func convLabel(_ op: String, _ x: [Int], _ w: [Int], _ stride: [Int]) -> String {
    guard Profiler.isDetailed else { return op }
    let k = w[2...].map(String.init).joined(separator: "x"), s = stride.map(String.init).joined(separator: "x")
    let size = x[2...].map(String.init).joined(separator: "x")
    return op == "conv3d" ? "\(op) \(w[1])->\(w[0]) k\(k) s\(s) @\(size)" : "\(op) \(w[0])->\(w[1]) k\(k) s\(s) @\(size)"
}
