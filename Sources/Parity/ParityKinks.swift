import Backbones
import Tensors

/// Float32 cannot tell the sign of a leaky ReLU's input that lies within its own rounding error of
/// zero: PyTorch and we sum in different orders and may take different branches there. The derivative
/// at that one element then differs by 0.99·g, and the convolutions and norms upstream spread the
/// difference into grad_input and weight gradients by up to several percent, although both runs are
/// correct float32 evaluations (docs/PARITY.md has the measurements against float64).
///
/// During a parity run this control, installed as the model's conv-block activation (`instrument`), records, for every conv-block activation in order, the elements
/// whose input is within `ambiguity`·max|x| of zero (our own float32 error on such sums is below it),
/// and can be told to take the other branch's derivative at some of them. The forward value is never
/// changed; only which subgradient the backward uses.
final class KinkControl: @unchecked Sendable {  // lives in one parity run's task; never shared across tasks

    /// A conv-block activation input element: (call index, flat index).
    struct Site: Hashable, Sendable, CustomStringConvertible {
        let call: Int, index: Int
        var description: String { "activation \(call) element \(index)" }
    }

    struct Candidate: Sendable {
        let site: Site
        /// |x| / max|x| of its tensor.
        let closeness: Double
        let value: Float
        /// |gradient arriving at the activation's output| there, relative to that gradient's largest
        /// magnitude: how much taking the other branch can change the gradients upstream.
        var impact = 0.0
        /// That gradient itself: taking the other branch adds (other slope − this slope)·gradient to
        /// the gradient of the activation's input at this element.
        var gradient: Float = 0
        /// The change of this element's input gradient if the other branch is taken.
        func flipDelta(slope: Float = 0.01) -> Float { (value > 0 ? slope - 1 : 1 - slope) * gradient }
    }

    /// Relative distance to zero below which the branch is float32 noise. Our error on these sums is
    /// ≤ 3.4e-7 of the tensor's largest magnitude on the 32³–64³ fixtures, but it grows with the length
    /// of the sums: on a batch-2 64×96×64 SwinUNETR v2 (96-channel 3×3×3 convolutions, instance norm
    /// over 400 k voxels) a decisive element lay at 6.0e-7, and the search only passed with this band.
    static let ambiguity = 3e-6

    private(set) var calls = 0
    private(set) var candidates: [Candidate] = []
    let flipped: Set<Site>
    /// Sites whose input values a probing pass records (activation call → flat indices).
    let probes: [Int: [Int]]
    private(set) var probed: [Site: Float] = [:]

    init(flipped: Set<Site> = [], probing sites: [Site] = []) {
        self.flipped = flipped
        probes = Dictionary(grouping: sites, by: \.call).mapValues { $0.map(\.index) }
    }

    func activation(_ x: Tensor, slope: Float = 0.01) -> Tensor {
        defer { calls += 1 }
        for index in probes[calls] ?? [] { probed[Site(call: calls, index: index)] = x[flat: index] }
        let scale = Kernels.maxAbs(x.pointer, count: x.count)
        let limit = Float(Self.ambiguity) * scale
        var mask: Tensor?
        for i in 0..<x.count where abs(x[flat: i]) <= limit {
            let site = Site(call: calls, index: i)
            candidates.append(Candidate(site: site, closeness: Double(abs(x[flat: i]) / max(scale, .leastNormalMagnitude)),
                                        value: x[flat: i]))
            guard flipped.contains(site) else { continue }
            if mask == nil {
                let m = Tensor(uninitialized: x.shape)
                for j in 0..<x.count { m[flat: j] = x[flat: j] > 0 ? 1 : slope }
                mask = m
            }
            mask![flat: i] = x[flat: i] > 0 ? slope : 1
        }
        let output: Tensor
        if let mask {
            let y = x * mask                                            // the other branch's derivative …
            output = y + withoutGrad { leakyRelu(x, slope: slope) - y }  // … with our forward value
        } else {
            output = leakyRelu(x, slope: slope)
        }
        let mine = candidates.indices.filter { candidates[$0].site.call == calls }
        guard !mine.isEmpty, GradMode.isEnabled, output.requiresGrad else { return output }
        return output.observingGradient { [self] gradient in
            let scale = Double(Kernels.maxAbs(gradient.pointer, count: gradient.count))
            for i in mine {
                candidates[i].gradient = gradient[flat: candidates[i].site.index]
                candidates[i].impact = Double(abs(candidates[i].gradient)) / max(scale, .leastNormalMagnitude)
            }
        }
    }
}

extension Backbone {
    /// Every conv-block activation of this (parity-owned) model routed through `control`.
    func instrument(with control: KinkControl) {
        replaceConvBlockActivations(with: BlockActivation { control.activation($0) })
    }
}
