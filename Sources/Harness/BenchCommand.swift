import ArgumentParser
import Experiments
import Foundation
import Tensors

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training-step and inference timings, peak memory, and kernel rates (a benchmark, not a test).",
        discussion: """
        Model steps use ANCHORS.md's configurations, batch 1 (--batch), Dice-CE, Adam: CPU scale (unetr-cpu, swinunetr-cpu; 64³) \
        and paper size (unetr-paper: 128³, hidden 768, mlp 3072, 12 heads, feature 16; swinunetr-paper: 128³, \
        feature 48): median of --repeats after --warmup steps. A paper-size step takes tens of seconds and GBs; \
        time one at a time with --repeats 1 --warmup 1. With --json, one JSON object per line: \
        {"bench": "gemm"|"conv3d_forward"|"conv3d_backward", "shape", "gflops"} and \
        {"bench": "unetr-cpu"|"swinunetr-cpu", "method", "train_step_s", "forward_s", "peak_rss_mb"}. Run one \
        model per process (--model, --method) for a clean peak-memory figure.
        """)

    @Option(help: "Models to time (comma-separated).")
    var model = "unetr-cpu,swinunetr-cpu"
    @Option(help: "Methods to time on each model (comma-separated).")
    var method = "full,lora,hyps,lora_pt"
    @Option(help: "Timed repetitions (median reported).")
    var repeats = 5
    @Option(help: "Untimed training steps before the timed ones (and one untimed forward when above 0).")
    var warmup = 2
    @Option(help: "Images per training step (the papers': 2 for HyPS's SwinUNETR, 4 for LoRA-PT's UNETR).")
    var batch = 1
    @Flag(help: "Train with activation checkpointing (the spec's `training.activation_checkpointing`).")
    var checkpointing = false
    @Flag(help: """
        Time each model's methods in one process, one step of each per round (--repeats rounds, the order \
        reversed every other round), and give each method's saving against the first, round by round, with \
        its quartiles: the fair comparison on a shared machine. No forward times; the peak is all methods'.
        """)
    var interleave = false
    @Option(help: "Extra conv3d 3x3x3 geometries to time, e.g. 16x16@64,32x16@64 (in x out channels @ size).")
    var conv = ""
    @Flag(help: "Skip the kernel benchmarks.")
    var noOps = false
    @Flag(help: "Skip the model benchmarks.")
    var noModels = false
    @Flag(help: "One JSON object per line on stdout.")
    var json = false

    func run() throws {
        try reportingErrors {
            func emit<T: Encodable>(_ value: T, _ text: String) throws {
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(value), as: UTF8.self))
                    fflush(nil)  // all streams: keeps JSON lines in order when piped
                } else {
                    print(text)
                }
            }
            if !noOps {
                for n in [512, 1024, 2048] {
                    let r = Benchmarks.gemm(size: n)
                    try emit(r, String(format: "gemm %@: %.1f GFLOP/s (%.1f per CPU-s)", r.shape, r.gflops, r.gflopsPerCPUSecond))
                }
                var geometries = [(32, 32, 64)]
                for item in conv.split(separator: ",") {
                    let parts = item.split(whereSeparator: { $0 == "x" || $0 == "@" }).compactMap { Int($0) }
                    guard parts.count == 3 else { throw ValidationError("--conv wants CIxCO@SIZE, got '\(item)'") }
                    geometries.append((parts[0], parts[1], parts[2]))
                }
                if !conv.isEmpty { geometries.removeFirst() }
                for (ci, co, size) in geometries {
                    for r in Benchmarks.convolution(inChannels: ci, outChannels: co, size: size) {
                        try emit(r, String(format: "%@ %@: %.1f GFLOP/s (%.3f s; %.1f per CPU-s)", r.bench, r.shape, r.gflops,
                                           r.seconds, r.gflopsPerCPUSecond))
                    }
                }
                for r in Benchmarks.windowAttention() {
                    try emit(r, String(format: "%@ %@: %.1f GFLOP/s (%.3f s; %.1f per CPU-s)", r.bench, r.shape, r.gflops,
                                       r.seconds, r.gflopsPerCPUSecond))
                }
                // Last among the kernels: OpenBLAS's own threads spin for a while after each call.
                let reference = Benchmarks.openBLASGemm(size: 2048, threads: Parallel.workers)
                try emit(reference, String(format: "%@ %@ (OpenBLAS's own threading, reference): %.1f GFLOP/s (%.1f per CPU-s)",
                                           reference.bench, reference.shape, reference.gflops, reference.gflopsPerCPUSecond))
            }
            guard !noModels else { return }
            guard repeats >= 1, warmup >= 0, batch >= 1 else {
                throw ValidationError("--repeats and --batch must be at least 1 and --warmup at least 0")
            }
            let methods = method.split(separator: ",").map(String.init)
            guard !interleave || methods.count >= 2 else {
                throw ValidationError("--interleave compares methods: give at least two, e.g. --method full,lora")
            }
            let setting = (batch > 1 ? " batch \(batch)" : "") + (checkpointing ? " checkpointed" : "")
            for name in model.split(separator: ",").map(String.init) {
                if interleave {
                    resetPeakMemory()
                    for r in try Benchmarks.interleaved(name, methods: methods, rounds: repeats, warmup: warmup, batch: batch,
                                                        checkpointing: checkpointing) {
                        try emit(r, String(format: "%@ + %@%@, %d interleaved rounds: train step %.3f s (%.3f CPU-s); against %@: saving %.1f %% (quartiles %.1f to %.1f), CPU %.1f %% (%.1f to %.1f), peak of all %.0f MB, %d trainable",
                                           r.bench, r.method, setting, r.rounds, r.trainStepSeconds, r.trainStepCPUSeconds, r.reference,
                                           100 * r.saving[0], 100 * r.saving[1], 100 * r.saving[2], 100 * r.savingCPU[0],
                                           100 * r.savingCPU[1], 100 * r.savingCPU[2], r.peakResidentMB, r.trainableParameters))
                    }
                    continue
                }
                for methodName in methods {
                    resetPeakMemory()
                    let r = try Benchmarks.model(name, method: methodName, repeats: repeats, warmup: warmup,
                                                         batch: batch, checkpointing: checkpointing)
                    try emit(r, String(format: "%@ + %@%@: train step %.3f s (%.3f CPU-s, %.1f GFLOP), forward %.3f s, peak %.0f MB, %d trainable",
                                       r.bench, r.method, setting, r.trainStepSeconds, r.trainStepCPUSeconds, r.gflopPerStep,
                                       r.forwardSeconds, r.peakResidentMB,
                                       r.trainableParameters))
                }
            }
        }
    }
}
