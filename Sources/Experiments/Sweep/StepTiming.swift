import Foundation
import Tensors

/// The step measurement of every backbone × method of a spec at one thread count: read from the cache,
/// or timed and cached (`plan`), with a running ETA, since a paper-size configuration takes minutes.
struct StepTiming {
    let spec: ExperimentSpec
    let cache: StepMeasurementCache
    let threads: Int

    /// Measurements by `backbone.label + "\u{1F}" + method.label`; a configuration that is neither cached nor
    /// timed (`measure` false) is absent. Timing needs this process's workers to be `threads`.
    func measurements(measure: Bool, log: (String) -> Void) throws -> [String: StepMeasurement] {
        let keys = try StepMeasurementCache.keys(for: spec)
        var found: [String: StepMeasurement] = [:]
        var missing: [(id: String, backbone: BackboneSpec, method: MethodSpec)] = []
        for backbone in spec.backbones {
            for method in spec.methods {
                let id = backbone.label + "\u{1F}" + method.label
                if let cached = cache.load(key: keys[id]!, threads: threads, unreadable: log) {
                    found[id] = cached
                } else {
                    missing.append((id, backbone, method))
                }
            }
        }
        guard measure, !missing.isEmpty else { return found }
        precondition(threads == Parallel.workers, "steps are timed on this process's workers")
        log("timing one training step of \(missing.count) configuration(s) at \(threads) threads (\(found.count) cached in "
            + "\(cache.folder.path))")
        var spent: [Double] = []
        for (n, item) in missing.enumerated() {
            // The cell's model from the random start, built and adapted as every cell is.
            let pipeline = try CellPipeline(backbone: item.backbone.config, backboneLabel: item.backbone.label,
                                            method: item.method.method, seed: 0, startingWeights: nil, training: spec.training)
            let patch = pipeline.patchSize
            let what = "\(item.backbone.label) + \(item.method.label), batch \(spec.training.batchSize), patch "
                + patch.map(String.init).joined(separator: "×")
            log("[\(n + 1)/\(missing.count)] \(what) …")
            let start = DispatchTime.now().uptimeNanoseconds
            let measurement = try StepMeasurement.measure(pipeline, configuration: what) { warmUp in
                log(Self.eta(warmUp: warmUp, spent: spent, remaining: missing.count - n - 1))
            }
            spent.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            found[item.id] = measurement
            do {
                try cache.save(measurement, key: keys[item.id]!)
            } catch {
                log("could not cache the measurement (\(error)); the next plan will time it again")
            }
        }
        return found
    }

    /// "warm-up step 49.1 s; this configuration about 1 min more, all about 15 min": the rest of this
    /// configuration is about one more step and a forward (three steps when the warm-up was quick); the
    /// ones left take the mean of those done, or this one's estimate while none is.
    static func eta(warmUp: Double, spent: [Double], remaining: Int) -> String {
        let rest = warmUp * (warmUp > StepMeasurement.slowStepSeconds ? 1.5 : 3.5)
        let each = spent.isEmpty ? warmUp + rest : spent.reduce(0, +) / Double(spent.count)
        return "  warm-up step \(String(format: "%.1f", warmUp)) s; this configuration about \(duration(rest)) more"
            + (remaining > 0 ? ", all about \(duration(rest + each * Double(remaining)))" : "")
    }
}
