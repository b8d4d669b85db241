import Tensors

public enum BottleneckActivation: String, Codable, Sendable { case relu, gelu }

/// s · Up(act(Down(z))), with Down Kaiming-uniform and Up zero-initialised, so the branch starts at 0.
final class Bottleneck {
    let down: Linear, up: Linear
    let activation: BottleneckActivation
    let scaling: Float
    let names: (down: String, up: String)

    init(input: Int, output: Int, width: Int, bias: Bool, activation: BottleneckActivation, scaling: Float,
         names: (down: String, up: String), rng: inout RandomGenerator) {
        down = Linear(input, width, bias: bias, rng: &rng)
        up = Linear(weight: Tensor(zeros: [output, width]), bias: bias ? Tensor(zeros: [output]) : nil)
        self.activation = activation
        self.scaling = scaling
        self.names = names
    }

    var children: [(String, Module)] { [(names.down, down), (names.up, up)] }

    func callAsFunction(_ z: Tensor) -> Tensor {
        let hidden = down(z)
        let activated = activation == .relu ? relu(hidden) : gelu(hidden)
        return up(activated) * scaling
    }
}
