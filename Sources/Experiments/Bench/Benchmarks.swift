import Backbones
import Foundation
import PEFTMethods
import Tensors

/// `harness bench`: kernel rates and model training steps, as JSON lines (DESIGN.md's format).
public enum Benchmarks {
    public struct OpResult: Codable, Sendable {
        public let bench: String
        public let shape: String
        public let gflops: Double
        public let seconds: Double
        /// GFLOP per CPU-second of this process (all threads; best of the repeats): much less sensitive to
        /// other processes' load than `gflops`.
        public let gflopsPerCPUSecond: Double

        enum CodingKeys: String, CodingKey {
            case bench, shape, gflops, seconds, gflopsPerCPUSecond = "gflops_per_cpu_s"
        }
    }

    public struct ModelResult: Codable, Sendable {
        public let bench: String
        public let method: String
        public let batch: Int
        public let checkpointing: Bool
        public let trainStepSeconds: Double
        /// Process CPU time of the median step (all our threads): insensitive to other processes' load.
        public let trainStepCPUSeconds: Double
        public let forwardSeconds: Double
        public let peakResidentMB: Double
        public let trainableParameters: Int
        /// Matrix-product and convolution work of one training step (GEMMs + convolutions, 2 per FMA).
        public let gflopPerStep: Double

        enum CodingKeys: String, CodingKey {
            case bench, method, batch, checkpointing, trainStepSeconds = "train_step_s", trainStepCPUSeconds = "train_step_cpu_s"
            case forwardSeconds = "forward_s"
            case peakResidentMB = "peak_rss_mb", trainableParameters = "trainable_parameters"
            case gflopPerStep = "gflop_per_step"
        }
    }

    /// The configurations of ANCHORS.md: CPU scale (64³) and paper size (128³, hidden 768 / feature 48).
    public static func configuration(_ name: String) throws -> (config: BackboneConfig, input: [Int]) {
        switch name {
        // Paper size: experiments/paper/backbones, ANCHORS.md's "at paper size" rows; dropout off as at CPU
        // scale and in scripts/bench_pytorch.py, so the two sides run the same network.
        case "unetr-cpu", "unetr-paper":
            let paper = name == "unetr-paper", size = paper ? 128 : 64
            var c = UNETRConfig(inChannels: 1, outChannels: 2, imgSize: [size, size, size])
            (c.featureSize, c.hiddenSize, c.mlpDim, c.numHeads) = paper ? (16, 768, 3072, 12) : (16, 384, 1536, 6)
            return (.unetr(c), [1, 1, size, size, size])
        case "swinunetr-cpu", "swinunetr-paper":
            let paper = name == "swinunetr-paper", size = paper ? 128 : 64
            var c = SwinUNETRConfig(inChannels: 1, outChannels: 2)
            (c.featureSize, c.depths, c.numHeads) = (paper ? 48 : 24, [2, 2, 2, 2], [3, 6, 12, 24])
            return (.swinunetr(c), [1, 1, size, size, size])
        default:
            throw BackboneError.invalidConfiguration(
                "unknown benchmark '\(name)' (unetr-cpu, swinunetr-cpu, unetr-paper, swinunetr-paper)")
        }
    }

    /// The method as ANCHORS.md measures it (LoRA r = 8, α = 16 on qkv/out_proj/linear1/linear2).
    public static func method(_ name: String) throws -> any PEFTMethod {
        if name == "lora" {
            var config = LoRA.Config()
            (config.rank, config.alpha) = (8, 16)
            return LoRA(config: config)
        }
        return try MethodRegistry.method(named: name)
    }

    /// Median wall time of `repeats` calls after `warmup` calls.
    static func median(warmup: Int, repeats: Int, _ body: () -> Void) -> Double {
        medianTimes(warmup: warmup, repeats: repeats, body).wall
    }

    /// Median wall time and median process CPU time (all threads) of `repeats` calls after `warmup` calls.
    /// `between` runs untimed before every call after the first (e.g. to rebuild a graph the call consumes).
    static func medianTimes(warmup: Int, repeats: Int, afterWarmup: () -> Void = {}, between: () -> Void = {},
                            _ body: () -> Void)
        -> (wall: Double, cpu: Double, totalWall: Double, totalCPU: Double, bestCPU: Double) {
        for i in 0..<warmup {
            if i > 0 { between() }
            body()
        }
        afterWarmup()
        var walls: [Double] = [], cpus: [Double] = []
        for i in 0..<repeats {
            if i > 0 || warmup > 0 { between() }
            let start = DispatchTime.now().uptimeNanoseconds, startCPU = processCPUSeconds()
            body()
            cpus.append(processCPUSeconds() - startCPU)
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return (walls.sorted()[walls.count / 2], cpus.sorted()[cpus.count / 2], walls.reduce(0, +), cpus.reduce(0, +),
                cpus.min() ?? 0)
    }

    /// CPU time of this process (every thread), in seconds.
    public static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    public static func gemm(size n: Int, repeats: Int = 5) -> OpResult {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.normal([n, n], using: &rng), b = Tensor.normal([n, n], using: &rng), c = Tensor(zeros: [n, n])
        let t = medianTimes(warmup: 1, repeats: repeats) {
            Kernels.gemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n)
        }
        let flop = 2 * pow(Double(n), 3)
        return OpResult(bench: "gemm", shape: "\(n)x\(n)x\(n)", gflops: flop / t.wall / 1e9, seconds: t.wall,
                        gflopsPerCPUSecond: flop / t.bestCPU / 1e9)
    }

    /// OpenBLAS's own sgemm with `threads` threads (not our split), for "GEMM near OpenBLAS's rate".
    public static func openBLASGemm(size n: Int, threads: Int, repeats: Int = 5) -> OpResult {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.normal([n, n], using: &rng), b = Tensor.normal([n, n], using: &rng), c = Tensor(zeros: [n, n])
        let t = medianTimes(warmup: 1, repeats: repeats) {
            Kernels.openBLASReferenceGemm(threads: threads, n: n, a: a.pointer, b: b.pointer, c: c.pointer)
        }
        usleep(300_000)  // let OpenBLAS's pool stop spinning before anything else is timed
        let flop = 2 * pow(Double(n), 3)
        return OpResult(bench: "gemm_openblas_\(threads)t", shape: "\(n)x\(n)x\(n)", gflops: flop / t.wall / 1e9,
                        seconds: t.wall, gflopsPerCPUSecond: flop / t.bestCPU / 1e9)
    }

    /// Shifted-window attention as `swinunetr-cpu`'s first stage runs it: 125 windows of 7³ tokens,
    /// 3 heads of 8 channels, relative-position bias and window mask; forward, and backward alone.
    public static func windowAttention(repeats: Int = 5) -> [OpResult] {
        let (windows, heads, n, d) = (125, 3, 343, 8)
        var rng = RandomGenerator(seed: 5)
        let q = Tensor.normal([1, windows, heads, n, d], using: &rng), k = Tensor.normal([1, windows, heads, n, d], using: &rng)
        let v = Tensor.normal([1, windows, heads, n, d], using: &rng), bias = Tensor.normal([heads, n, n], using: &rng)
        let mask = Tensor((0..<(windows * n * n)).map { ($0 / 97) % 3 == 0 ? -100 : 0 }, shape: [windows, 1, n, n])
        for t in [q, k, v, bias] { t.setRequiresGrad(true) }
        let forward = medianTimes(warmup: 1, repeats: repeats) {
            _ = withoutGrad { scaledDotProductAttention(query: q, key: k, value: v, scale: 1, bias: bias, mask: mask) }
        }
        var y = scaledDotProductAttention(query: q, key: k, value: v, scale: 1, bias: bias, mask: mask).sum()
        let backward = medianTimes(warmup: 1, repeats: repeats, between: {
            for t in [q, k, v, bias] { t.clearGrad() }
            y = scaledDotProductAttention(query: q, key: k, value: v, scale: 1, bias: bias, mask: mask).sum()
        }) { y.backward() }
        let products = 2.0 * Double(windows * heads * n * n * d)  // one n×n×d product
        let shape = "\(windows)x\(heads) windows of \(n)x\(d)"
        return [OpResult(bench: "window_attention_forward", shape: shape, gflops: 2 * products / forward.wall / 1e9,
                         seconds: forward.wall, gflopsPerCPUSecond: 2 * products / forward.bestCPU / 1e9),
                OpResult(bench: "window_attention_backward", shape: shape, gflops: 5 * products / backward.wall / 1e9,
                         seconds: backward.wall, gflopsPerCPUSecond: 5 * products / backward.bestCPU / 1e9)]
    }

    /// conv3d 3×3×3 of `channels` → `channels` on a `size`³ volume: forward, and backward (data + weight).
    public static func convolution(channels: Int = 32, size: Int = 64, repeats: Int = 5) -> [OpResult] {
        convolution(inChannels: channels, outChannels: channels, size: size, repeats: repeats)
    }

    /// conv3d 3×3×3 (padding 1) of `inChannels` → `outChannels` on a `size`³ volume.
    public static func convolution(inChannels: Int, outChannels: Int, size: Int, repeats: Int = 5) -> [OpResult] {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor.normal([1, inChannels, size, size, size], using: &rng)
        let w = Tensor.normal([outChannels, inChannels, 3, 3, 3], std: 0.05, using: &rng)
        let g = ConvGeometry(inChannels: inChannels, outChannels: outChannels, input: [size, size, size], kernel: [3, 3, 3],
                             stride: [1, 1, 1], padding: [1, 1, 1])
        let y = Tensor(uninitialized: [1, outChannels, size, size, size])
        let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
        let forward = medianTimes(warmup: 1, repeats: repeats) { Kernels.convForward(x.pointer, weight: w.pointer, into: y.pointer, g) }
        let backward = medianTimes(warmup: 1, repeats: repeats) {
            Kernels.convBackward(x.pointer, y.pointer, weight: w.pointer, dx: dx.pointer, dw: dw.pointer, g)
        }
        let data = medianTimes(warmup: 1, repeats: repeats) {
            Kernels.convBackward(x.pointer, y.pointer, weight: w.pointer, dx: dx.pointer, dw: nil, g)
        }
        let weight = medianTimes(warmup: 1, repeats: repeats) {
            Kernels.convBackward(x.pointer, y.pointer, weight: w.pointer, dx: nil, dw: dw.pointer, g)
        }
        let shape = "\(inChannels)->\(outChannels) k3 \(size)^3"
        if Profiler.isDetailed {
            Profiler.reset()
            Kernels.convForward(x.pointer, weight: w.pointer, into: y.pointer, g)
            Kernels.convBackward(x.pointer, y.pointer, weight: w.pointer, dx: dx.pointer, dw: dw.pointer, g)
            FileHandle.standardError.write(Data("conv3d \(shape), one forward + backward:\n\(Profiler.report())\n".utf8))
        }
        let flop = Double(g.flops)
        return [OpResult(bench: "conv3d_forward", shape: shape, gflops: flop / forward.wall / 1e9, seconds: forward.wall,
                         gflopsPerCPUSecond: flop / forward.bestCPU / 1e9),
                OpResult(bench: "conv3d_backward", shape: shape, gflops: 2 * flop / backward.wall / 1e9, seconds: backward.wall,
                         gflopsPerCPUSecond: 2 * flop / backward.bestCPU / 1e9),
                OpResult(bench: "conv3d_backward_data", shape: shape, gflops: flop / data.wall / 1e9, seconds: data.wall,
                         gflopsPerCPUSecond: flop / data.bestCPU / 1e9),
                OpResult(bench: "conv3d_backward_weight", shape: shape, gflops: flop / weight.wall / 1e9, seconds: weight.wall,
                         gflopsPerCPUSecond: flop / weight.bestCPU / 1e9)]
    }

    /// Median training step (forward, Dice-CE, backward, Adam) and forward time of a model adapted by a method,
    /// on `batch` images, with or without activation checkpointing (the papers' batches: 2 for HyPS, 4 for LoRA-PT).
    public static func model(_ name: String, method methodName: String, repeats: Int = 5, warmup: Int = 2,
                             batch: Int = 1, checkpointing: Bool = false) throws -> ModelResult {
        let rig = try TrainingStepRig(name, method: methodName, batch: batch, checkpointing: checkpointing)
        let step = medianTimes(warmup: warmup, repeats: repeats, afterWarmup: { Profiler.reset(); KernelCounters.reset() }) {
            rig.step()
        }
        if Profiler.isEnabled {
            let par = Profiler.parallelTotals, n = Double(repeats)
            FileHandle.standardError.write(Data(String(
                format: "parallel regions: %d per step, %.0f ms wall, %.0f ms CPU per step; outside them %.0f ms CPU (one thread)\n",
                par.regions / repeats, 1000 * par.wall / n, 1000 * par.cpu / n, 1000 * (step.totalCPU - par.cpu) / n).utf8))
            let pool = BufferPool.shared.statistics
            FileHandle.standardError.write(Data(String(
                format: "buffer pool: live %.0f MB (peak %.0f MB), pooled %.0f MB, peak live+pooled %.0f MB; %d fresh allocations, %d reuses\n",
                Double(pool.liveBytes) / 1e6, Double(pool.peakLiveBytes) / 1e6, Double(pool.pooledBytes) / 1e6,
                Double(pool.peakHeldBytes) / 1e6, pool.freshAllocations, pool.reuses).utf8))
            FileHandle.standardError.write(Data("""
                profile of \(name) + \(methodName), per training step (mean of \(repeats); exclusive times):
                \(Profiler.report(steps: repeats, totalWallSeconds: step.totalWall / Double(repeats),
                                  totalCPUSeconds: step.totalCPU / Double(repeats)))

                """.utf8))
        }
        let gflopPerStep = Double(KernelCounters.flops.load(ordering: .relaxed)) / Double(repeats) / 1e9
        rig.model.eval()
        // The training steps warmed the buffers the forward needs, so `--warmup 0` may skip its warm-up too.
        let forward = median(warmup: min(warmup, 1), repeats: repeats) { rig.forward() }
        return ModelResult(bench: name, method: methodName, batch: batch, checkpointing: checkpointing,
                           trainStepSeconds: step.wall, trainStepCPUSeconds: step.cpu, forwardSeconds: forward, peakResidentMB: peakResidentMegabytes(),
                           trainableParameters: rig.adaptation.trainableParameterCount, gflopPerStep: gflopPerStep)
    }

    /// With HIPPOPEFT_PROFILE=2, prints the buffer pool's levels (live, pooled, peaks) at a point of the step.
    static func memoryCheckpoint(_ label: String) {
        guard Profiler.isDetailed else { return }
        let pool = BufferPool.shared.statistics
        FileHandle.standardError.write(Data(String(
            format: "  pool %@: tensors %.0f MB (most ever %.0f), live %.0f MB (peak %.0f), pooled %.0f MB, peak live+pooled %.0f MB, fresh %d\n",
            label, Double(pool.tensorBytes) / 1e6, Double(pool.largestTensorBytes) / 1e6, Double(pool.liveBytes) / 1e6, Double(pool.peakLiveBytes) / 1e6,
            Double(pool.pooledBytes) / 1e6, Double(pool.peakHeldBytes) / 1e6, pool.freshAllocations).utf8))
        BufferPool.shared.resetPeaks()
    }
}
