import Backbones
import Foundation
import PEFTMethods
import Tensors

/// One training step of a backbone adapted by a method, at a spec's batch and patch size, timed on this
/// machine: what `plan` multiplies by each cell's steps and what `slurm` sizes an array task from.
public struct StepMeasurement: Codable, Sendable, Equatable {
    /// Median wall seconds of the timed training steps (forward, loss, backward, optimizer step).
    public var secondsPerStep: Double
    /// Process CPU seconds (all threads) of that step: below `secondsPerStep × threads` when other processes
    /// took cores from the measurement, so a reader can tell a loaded machine's figure.
    public var cpuSecondsPerStep: Double
    /// Wall seconds of one forward pass of one sample (eval mode, no gradients): the test inference's unit.
    public var secondsPerForward: Double
    /// Peak resident set of the process while the model was built, stepped and run forward, in MB.
    public var peakResidentMB: Double
    /// Worker threads the steps ran on (`HIPPOPEFT_THREADS`): seconds × threads = core-seconds.
    public var threads: Int
    /// Steps timed after the warm-up (one when a step is slow, else three and the median).
    public var timedSteps: Int
    /// What was measured, for a reader of the cache: `unetr + full, batch 4, patch 128×128×128`.
    public var configuration: String
    /// When (ISO 8601, UTC).
    public var measuredAt: String

    public init(secondsPerStep: Double, cpuSecondsPerStep: Double? = nil, secondsPerForward: Double, peakResidentMB: Double, threads: Int, timedSteps: Int,
                configuration: String, measuredAt: String) {
        (self.secondsPerStep, self.secondsPerForward, self.peakResidentMB) = (secondsPerStep, secondsPerForward, peakResidentMB)
        self.cpuSecondsPerStep = cpuSecondsPerStep ?? secondsPerStep * Double(threads)
        (self.threads, self.timedSteps, self.configuration, self.measuredAt) = (threads, timedSteps, configuration, measuredAt)
    }

    enum CodingKeys: String, CodingKey {
        case secondsPerStep = "seconds_per_step", cpuSecondsPerStep = "cpu_seconds_per_step", secondsPerForward = "seconds_per_forward", peakResidentMB = "peak_rss_mb"
        case threads, timedSteps = "timed_steps", configuration, measuredAt = "measured_at"
    }

    /// Whether every number is one a measurement can give (a cache file is read back from disk).
    public var isPlausible: Bool {
        [secondsPerStep, cpuSecondsPerStep, secondsPerForward, peakResidentMB].allSatisfy { $0.isFinite && $0 > 0 } && threads >= 1 && timedSteps >= 1
    }

    /// A warm-up step longer than this many seconds is a paper-size step: one more step is timed, not three,
    /// so `plan` spends about two steps per configuration.
    static let slowStepSeconds = 10.0

    /// Builds the adapted model with seed 0, runs one warm-up step on random data of the training batch
    /// and patch, then times one step (three when the warm-up was quick) and one forward pass. The peak
    /// memory is this process's, from an emptied buffer pool: the model, its optimizer state and one step.
    /// `warmedUp` gets the warm-up's seconds, for an ETA.
    static func measure(_ pipeline: CellPipeline, configuration: String,
                        warmedUp: (Double) -> Void = { _ in }) throws -> StepMeasurement {
        BufferPool.shared.drain()
        resetPeakMemory()
        let adaptation = try pipeline.makeModel()
        let (model, settings, patch) = (adaptation.model, pipeline.training, pipeline.patchSize)
        settings.prepare(model)
        var data = RandomGenerator(seed: 1)
        let shape = [settings.batchSize, pipeline.backbone.inChannels] + AxisOrder.tensorShape(fromNIfTI: patch)
        let image = Tensor.normal(shape, using: &data)
        let label = Tensor(zeros: [settings.batchSize] + AxisOrder.tensorShape(fromNIfTI: patch))
        let optimizer = settings.makeOptimizer(adaptation.trainableParameters)
        model.train()
        func step() -> (wall: Double, cpu: Double) {
            let start = DispatchTime.now().uptimeNanoseconds, startCPU = Benchmarks.processCPUSeconds()
            optimizer.zeroGrad()
            settings.loss(logits: model(image), labels: label).backward()
            optimizer.step()
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, Benchmarks.processCPUSeconds() - startCPU)
        }
        let warmUp = step().wall
        warmedUp(warmUp)
        let times = (0..<(warmUp > slowStepSeconds ? 1 : 3)).map { _ in step() }.sorted { $0.wall < $1.wall }
        model.eval()
        let start = DispatchTime.now().uptimeNanoseconds
        _ = withoutGrad { model(image.slice(axis: 0, 0..<1)) }
        let forward = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let median = times[times.count / 2]
        return StepMeasurement(secondsPerStep: median.wall, cpuSecondsPerStep: median.cpu, secondsPerForward: forward,
                               peakResidentMB: peakResidentMegabytes(), threads: Parallel.workers, timedSteps: times.count,
                               configuration: configuration, measuredAt: ISO8601DateFormatter().string(from: Date()))
    }
}
