import Foundation
import XCTest
@testable import Experiments
import TestSupport

/// `plan`'s costs and `slurm`'s request: the arithmetic on fixed measurements, the cache, and that a
/// value the user gives wins. Nothing here asserts a time: steps are timed only to fill the cache.
final class PlanCostTests: XCTestCase {
    private func measurement(step: Double, forward: Double = 0.5, peak: Double = 1000, threads: Int = 2) -> StepMeasurement {
        StepMeasurement(secondsPerStep: step, secondsPerForward: forward, peakResidentMB: peak, threads: threads, timedSteps: 1,
                        configuration: "test", measuredAt: "2026-12-02T00:00:00Z")
    }

    func testCoreHoursAreSecondsTimesThreadsOver3600SummedOverCells() {
        let a = CellCost(steps: 1000, forwards: 40, measurement: measurement(step: 3.6, forward: 0.9, threads: 2))
        let b = CellCost(steps: 500, forwards: 0, measurement: measurement(step: 7.2, threads: 8))
        XCTAssertEqual(a.trainingSeconds, 3600, accuracy: 1e-9)
        XCTAssertEqual(a.inferenceSeconds, 36, accuracy: 1e-9)
        XCTAssertEqual(a.coreHours, 3636 * 2 / 3600, accuracy: 1e-9)
        XCTAssertEqual(b.coreHours, 3600 * 8 / 3600, accuracy: 1e-9)
        XCTAssertEqual(PlanCost.coreHours([a, b]), 3636 * 2 / 3600 + 8, accuracy: 1e-9)
        XCTAssertEqual(PlanCost.seconds([a, b]), 7236, accuracy: 1e-9)
    }

    func testSlurmTimeIsTheMeasuredTimeTimesTheSafetyFactorRoundedUpToWholeHours() {
        XCTAssertEqual(SlurmResources.timeSafetyFactor, 1.5)
        XCTAssertEqual(SlurmResources.time(seconds: 1), "01:00:00", "at least an hour")
        XCTAssertEqual(SlurmResources.time(seconds: 2400), "01:00:00", "3600 s exactly")
        XCTAssertEqual(SlurmResources.time(seconds: 2401), "02:00:00", "just over an hour rounds up")
        XCTAssertEqual(SlurmResources.time(seconds: 15 * 3600), "23:00:00", "22.5 h")
        XCTAssertEqual(SlurmResources.time(seconds: 16 * 3600), "1-00:00:00", "a day in Slurm's D-HH form")
        XCTAssertEqual(SlurmResources.time(seconds: 100 * 3600), "6-06:00:00")
        for text in ["01:00:00", "1-00:00:00", "6-06:00:00"] { XCTAssert(SlurmRequest.isTime(text), text) }
    }

    func testSlurmMemoryIsThePeakWithAMarginRoundedUpToWholeGigabytes() {
        XCTAssertEqual(SlurmResources.memory(peakMB: 4096), "6G", "4096 × 1.25 + 1024 = 6144 MB")
        XCTAssertEqual(SlurmResources.memory(peakMB: 4097), "7G")
        XCTAssertEqual(SlurmResources.memory(peakMB: 100), "2G")
        XCTAssertEqual(SlurmResources.memory(peakMB: 23_300), "30G")
    }

    func testDerivedRequestTakesTheLongestCellTheLargestPeakAndTheMeasuredCores() {
        let short = CellCost(steps: 100, forwards: 0, measurement: measurement(step: 36, peak: 4096, threads: 4))
        let long = CellCost(steps: 200, forwards: 0, measurement: measurement(step: 36, peak: 2000, threads: 4))
        let derived = SlurmResources.derive(pending: [short, long], measuredThreads: 4, request: SlurmRequest())
        XCTAssertEqual(derived.time, "03:00:00", "2 h × 1.5")
        XCTAssertEqual(derived.cpusPerTask, 4)
        XCTAssertEqual(derived.memory, "6G")
        // Fewer cores than measured: the time grows in proportion (2 h × 4/2 × 1.5 = 6 h); more: unchanged.
        XCTAssertEqual(SlurmResources.derive(pending: [long], measuredThreads: 4, request: SlurmRequest(cpusPerTask: 2)).time, "06:00:00")
        XCTAssertEqual(SlurmResources.derive(pending: [long], measuredThreads: 4, request: SlurmRequest(cpusPerTask: 64)).time, "03:00:00")
        // A cell without a measurement: nothing is derived.
        let unmeasured = SlurmResources.derive(pending: [long, nil], measuredThreads: 4, request: SlurmRequest())
        XCTAssertEqual([unmeasured.time, unmeasured.memory], ["24:00:00", "16G"])
    }

    func testAValueTheUserGivesWinsAndFlagsWinOverTheSpec() {
        let cell = CellCost(steps: 100, forwards: 0, measurement: measurement(step: 36, peak: 4096, threads: 4))
        let spec = SlurmRequest(time: "2-00:00:00", memory: "40G")
        let flags = SlurmRequest(memory: "64G")
        let request = spec.overridden(by: flags)
        XCTAssertEqual(request, SlurmRequest(time: "2-00:00:00", memory: "64G"))
        let derived = SlurmResources.derive(pending: [cell], measuredThreads: 4, request: request)
        XCTAssertEqual([derived.time, derived.memory], ["2-00:00:00", "64G"])
        XCTAssertEqual(derived.cpusPerTask, 4, "not given: the measured cores")
        XCTAssertEqual(SlurmResources.derive(pending: [cell], measuredThreads: 4, request: SlurmRequest(cpusPerTask: 16)).cpusPerTask, 16)
    }

    func testBadSlurmValuesAreRefusedBeforeTheyReachAScript() throws {
        for bad in ["1\n#SBATCH --wrap=x", "1h", "24:00:00; rm", ""] { XCTAssertFalse(SlurmRequest.isTime(bad), bad) }
        for bad in ["16GB", "0", "-1G", "16G\n"] { XCTAssertFalse(SlurmRequest.isMemory(bad), bad) }
        XCTAssertThrowsError(try SpecLoader.parse(Self.spec + "slurm: {mem: 16GB}\n")) { error in
            XCTAssert("\(error)".contains("slurm.mem") && "\(error)".contains("e.g. 24G"), "\(error)")
        }
        let spec = try SpecLoader.parse(Self.spec + "slurm: {time: '2-00:00:00', cpus_per_task: 8}\n")
        XCTAssertEqual(spec.slurm, SlurmRequest(time: "2-00:00:00", cpusPerTask: 8))
    }

    static let spec = """
        # Two configurations (one backbone × two methods) of a network small enough to time in a moment.
        name: tiny-cost
        backbone: {name: unetr, args: {in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4,
                                       hidden_size: 16, mlp_dim: 32, num_heads: 2}}
        datasets: [{name: phantoms, layout: synthetic, synthetic: {kind: hippocampus, style: harp, subjects: 6},
                    split: {validation: 1, test: 1, seed: 0}}]
        budgets: [2, 4]
        methods: [linear_probe, lora]
        training: {epochs: 3, batch_size: 2}

        """

    /// `plan` times each configuration once and caches it: a second plan, even with --no-measure, reads the
    /// same numbers; each cell's cost is its steps × that step; a cache file that is not a measurement is
    /// reported and measured again. A change that does not alter a step (epochs) reuses the measurement.
    func testPlanMeasuresOncePerConfigurationAndReusesTheCache() throws {
        let folder = try TemporaryFolder()
        let store = ResultStore(root: folder.url.appendingPathComponent("results"))
        let spec = try SpecLoader.parse(Self.spec)
        let unmeasured = try SweepPlan.make(spec: spec, store: store, measure: false, log: { _ in })
        XCTAssertNil(unmeasured.estimatedCoreHours)
        XCTAssert(unmeasured.text.contains(PlanCost.notMeasured), unmeasured.text)
        XCTAssert(unmeasured.text.contains("--time=24:00:00"), "not measured: the defaults")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.root.path), "--no-measure writes nothing")

        var messages: [String] = []
        let measured = try SweepPlan.make(spec: spec, store: store, measure: true, log: { messages.append($0) })
        XCTAssertEqual(messages.filter { $0.contains("warm-up step") }.count, 2, "one ETA line per configuration: \(messages)")
        let cache = StepMeasurementCache(store: store)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.threadFolder(measured.threads).path).count, 2)
        let costs = measured.cells.compactMap(\.cost)
        XCTAssertEqual(costs.count, 4)
        for (cell, cost) in zip(measured.cells, costs) {
            let method = measured.methods.first { cell.title.contains(" · \($0.method) · ") }!
            XCTAssertEqual(cost.secondsPerStep, method.measurement!.secondsPerStep)
            XCTAssertEqual(cost.steps, 3 * ((cell.trainingCases! + 1) / 2), "epochs × ⌈cases / batch⌉")
            XCTAssertEqual(cost.trainingSeconds, Double(cost.steps) * cost.secondsPerStep, accuracy: 1e-12)
        }
        XCTAssertEqual(measured.estimatedCoreHours!, PlanCost.coreHours(costs), accuracy: 1e-12)
        XCTAssertEqual(measured.slurm.cpusPerTask, measured.threads)
        XCTAssertEqual(measured.slurm.memory, SlurmResources.memory(peakMB: costs.map(\.peakResidentMB).max()!))
        XCTAssert(measured.text.contains("core-hours"), measured.text)

        var again: [String] = []
        let longer = try SpecLoader.parse(Self.spec.replacingOccurrences(of: "epochs: 3", with: "epochs: 6"))
        let cached = try SweepPlan.make(spec: longer, store: store, measure: true, log: { again.append($0) })
        XCTAssert(again.isEmpty, "nothing timed again: \(again)")
        XCTAssertEqual(cached.methods.map(\.measurement), measured.methods.map(\.measurement))
        XCTAssertEqual(cached.estimatedCoreHours!, PlanCost.coreHours(cached.cells.compactMap(\.cost)), accuracy: 1e-12)
        XCTAssertGreaterThan(cached.estimatedCoreHours!, measured.estimatedCoreHours!)

        let keys = try StepMeasurementCache.keys(for: spec)
        let broken = cache.url(key: keys.values.sorted()[0], threads: measured.threads)
        try Data("{\"seconds_per_step\": -1}".utf8).write(to: broken)
        var repaired: [String] = []
        _ = try SweepPlan.make(spec: spec, store: store, measure: true, log: { repaired.append($0) })
        XCTAssert(repaired.contains { $0.contains(broken.path) && $0.contains("not a valid step measurement") }, "\(repaired)")
        XCTAssertNotNil(cache.load(key: keys.values.sorted()[0], threads: measured.threads), "measured again and replaced")
    }
}
