import Backbones
import Foundation
import PEFTMethods
import Tensors

/// One benchmark model adapted by one method, with its optimiser and a fixed random image and label:
/// a training step (forward, Dice-CE, backward, Adam) to time.
final class TrainingStepRig {
    let model: any Backbone
    let adaptation: Adaptation
    private let optimizer: Adam
    private let image: Tensor, label: Tensor

    init(_ name: String, method: String, batch: Int, checkpointing: Bool) throws {
        var (config, shape) = try Benchmarks.configuration(name)
        shape[0] = batch
        model = try makeBackbone(config, seed: 0)
        model.activationCheckpointing = checkpointing
        var rng = RandomGenerator(seed: 3, stream: "method")
        adaptation = try Benchmarks.method(method).apply(to: model, rng: &rng)
        var data = RandomGenerator(seed: 4)
        image = Tensor.normal(shape, using: &data)
        label = Tensor(uninitialized: [shape[0]] + Array(shape[2...]))
        for i in 0..<label.count { label.pointer[i] = data.uniform() < 0.3 ? 1 : 0 }
        optimizer = Adam(adaptation.trainableParameters, learningRate: 1e-4)
        model.train()
    }

    func step() {
        Profiler.measure("zeroGrad", .other) { optimizer.zeroGrad() }
        let logits = Profiler.measure("model", .forward) { model(image) }
        let loss = Profiler.measure("loss", .forward) { diceCrossEntropyLoss(logits: logits, labels: label) }
        Benchmarks.memoryCheckpoint("after forward")
        Profiler.measure("backward walk", .backward) { loss.backward() }
        Benchmarks.memoryCheckpoint("after backward")
        Profiler.measure("adam", .other) { optimizer.step() }
        Benchmarks.memoryCheckpoint("after adam")
    }

    /// A forward pass without gradients, in whichever mode the model is.
    func forward() { _ = withoutGrad { model(image) } }
}

extension Benchmarks {
    /// A method's training step against the first method's, from steps interleaved in one process.
    public struct InterleavedResult: Codable, Sendable {
        public let bench: String
        public let method: String
        public let reference: String
        public let rounds: Int
        public let trainStepSeconds: Double
        public let trainStepCPUSeconds: Double
        /// 1 − step / reference step within each round: median, first and third quartile (wall time).
        public let saving: [Double]
        /// The same from each step's process CPU time.
        public let savingCPU: [Double]
        public let trainableParameters: Int
        /// The process's peak with every method's model, activations and optimiser state alive.
        public let peakResidentMB: Double

        enum CodingKeys: String, CodingKey {
            case bench, method, reference, rounds, peakResidentMB = "peak_rss_mb", trainStepSeconds = "train_step_s", trainStepCPUSeconds = "train_step_cpu_s"
            case saving = "saving_median_q1_q3", savingCPU = "saving_cpu_median_q1_q3"
            case trainableParameters = "trainable_parameters"
        }
    }

    /// Training steps of several methods on one model, one step of each per round, the order reversed
    /// every other round: a slow spell of a shared machine then falls on every method alike, and the
    /// saving against the first method is taken round by round (each round's steps are seconds apart)
    /// instead of from medians minutes apart. The first method is its own reference (saving 0).
    public static func interleaved(_ name: String, methods: [String], rounds: Int, warmup: Int, batch: Int = 1,
                                   checkpointing: Bool = false) throws -> [InterleavedResult] {
        let rigs = try methods.map { try TrainingStepRig(name, method: $0, batch: batch, checkpointing: checkpointing) }
        for _ in 0..<warmup { for rig in rigs { rig.step() } }
        var walls = [[Double]](repeating: [], count: rigs.count), cpus = walls
        for round in 0..<rounds {
            let order = round % 2 == 0 ? Array(rigs.indices) : rigs.indices.reversed()
            for m in order {
                let start = DispatchTime.now().uptimeNanoseconds, startCPU = processCPUSeconds()
                rigs[m].step()
                cpus[m].append(processCPUSeconds() - startCPU)
                walls[m].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        }
        func savings(_ times: [[Double]], _ m: Int) -> [Double] {
            let ratios = zip(times[m], times[0]).map { 1 - $0 / $1 }.sorted()
            return [0.5, 0.25, 0.75].map { quantile(ratios, $0) }
        }
        let peak = peakResidentMegabytes()  // of the whole process: every model was live at once
        return rigs.indices.map { m in
            InterleavedResult(bench: name, method: methods[m], reference: methods[0], rounds: rounds,
                              trainStepSeconds: quantile(walls[m].sorted(), 0.5), trainStepCPUSeconds: quantile(cpus[m].sorted(), 0.5),
                              saving: savings(walls, m), savingCPU: savings(cpus, m),
                              trainableParameters: rigs[m].adaptation.trainableParameterCount, peakResidentMB: peak)
        }
    }

    /// The q-quantile of sorted values, interpolating linearly between neighbours.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = q * Double(sorted.count - 1), low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1), fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }
}
