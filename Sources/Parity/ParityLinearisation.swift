import Backbones
import Foundation
import Tensors

/// The first-order change of the parity score if each candidate's branch were flipped, from two
/// forward passes instead of one forward-backward pass per candidate.
///
/// The score is E = Σ_T ‖(g_T − r_T) / s_T‖² over grad_input and the parameter gradients
/// (`ParityReport.squaredError`). Flipping site i adds Δ_i (`Candidate.flipDelta`) to the gradient
/// of that activation's input a_i, and the backward carries it linearly upstream: δg = Δ_i·∂a_i/∂θ.
/// So dE = 2·Δ_i·(∂a_i/∂θ)·w with w_T = (g_T − r_T) / s_T², and (∂a_i/∂θ)·w is a directional
/// derivative of the forward pass alone: the central difference of a_i when the input and the
/// parameters move by ±ε·w. A negative effect predicts a smaller error; the branch search tries the
/// most negative first. (Ranking by gradient size over distance to zero missed the decisive sites.)
func linearisedFlipEffects(of candidates: [KinkControl.Candidate], model: any Backbone,
                           parameters: [(String, Parameter)], references: [Tensor], input: Tensor,
                           expectedInputGrad: Tensor) throws -> [KinkControl.Site: Double] {
    func direction(_ ours: Tensor?, _ reference: Tensor) -> [Float]? {
        guard let ours, ours.shape == reference.shape else { return nil }
        let scale = max(Double(Kernels.maxAbs(reference.pointer, count: reference.count)), 1e-30)
        let weight = Float(1 / (scale * scale))
        return (0..<reference.count).map { (ours[flat: $0] - reference[flat: $0]) * weight }
    }
    let targets = [input] + parameters.map(\.1.value)
    let directions = [direction(input.grad, expectedInputGrad)]
        + zip(parameters, references).map { direction($0.1.grad, $1) }
    let originals = targets.map(\.values)
    var valueNorm = 0.0, directionNorm = 0.0
    for (values, direction) in zip(originals, directions) {
        guard let direction else { continue }
        valueNorm += values.reduce(0) { $0 + Double($1) * Double($1) }
        directionNorm += direction.reduce(0) { $0 + Double($1) * Double($1) }
    }
    guard directionNorm > 0, valueNorm > 0 else { return [:] }
    // A step of 1e-3 of the values' norm: far above float32 rounding, small enough to stay linear.
    let epsilon = 1e-3 * (valueNorm / directionNorm).squareRoot()

    func move(by step: Double) {
        for ((tensor, values), direction) in zip(zip(targets, originals), directions) {
            let p = tensor.pointer
            if let direction {
                for i in values.indices { p[i] = values[i] + Float(step) * direction[i] }
            } else {
                for i in values.indices { p[i] = values[i] }
            }
        }
        for (_, parameter) in parameters { parameter.markUpdated() }
    }
    func probe(_ step: Double) -> [KinkControl.Site: Float] {
        move(by: step)
        let control = KinkControl(probing: candidates.map(\.site))
        model.instrument(with: control)
        _ = withoutGrad { model(input) }
        return control.probed
    }
    let plus = probe(epsilon), minus = probe(-epsilon)
    move(by: 0)
    var effects: [KinkControl.Site: Double] = [:]
    for candidate in candidates {
        guard let up = plus[candidate.site], let down = minus[candidate.site] else { continue }
        let derivative = (Double(up) - Double(down)) / (2 * epsilon)
        effects[candidate.site] = 2 * Double(candidate.flipDelta()) * derivative
    }
    return effects
}
