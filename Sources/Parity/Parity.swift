import Backbones
import Foundation
import Tensors

/// The result of running a MONAI parity fixture: forward logits and the backward pass of
/// L = Σ logits ⊙ grad_output, each compared relative to the largest magnitude of the reference.
public struct ParityReport: Codable, Sendable {
    public struct Comparison: Codable, Sendable {
        public let name: String
        /// Largest absolute difference divided by the comparison scale.
        public let relativeError: Double
        public let tolerance: Double
        /// True when the reference was too small to be compared at its own scale (see `runParity`).
        public var comparedAtModuleScale = false
        public var passed: Bool { relativeError <= tolerance }
    }

    public let fixture: String
    public let backbone: String
    public let parameterCount: Int
    public let logits: Comparison
    public let gradInput: Comparison
    /// The parameter gradient with the largest relative error.
    public let worstGradient: Comparison
    public let gradientsCompared: Int
    /// Gradients that failed at their own scale, were below 2 % of their top-level module's largest
    /// gradient, and were therefore compared at that float32 noise floor instead.
    public let moduleScaleGradients: [String]
    public let failures: [Comparison]
    /// No failures (stored, so that `--json` carries it).
    public let passed: Bool
    /// Leaky-ReLU elements whose input was within float32 rounding of zero and whose backward took the
    /// other branch, because that reproduces the reference's choice (see `runParity`).
    public var kinkBranchesFlipped: [String] = []
    /// Forward-backward passes run (1 + the branch trials).
    public var passes = 1
    /// Leaky-ReLU inputs within float32 rounding of zero in the first pass (candidates for the search).
    public var kinkCandidates = 0
    /// Σ over grad_input and every parameter gradient of ((ours − reference) / the tensor's largest
    /// reference magnitude)²: the score the branch search lowers.
    public var squaredError = 0.0

    public static let logitsTolerance = 1e-4
    public static let gradientTolerance = 1e-3
    /// A gradient whose largest magnitude is below this fraction of its top-level module's largest
    /// gradient is compared at that fraction of the module's scale instead of its own.
    public static let noiseFloor = 2e-2
}

public enum ParityError: Error, CustomStringConvertible {
    case missingTensor(file: String, name: String)
    /// The folder is not a fixture: absent, not a folder, or without some of the four files.
    case notAFixture(path: String, missing: [String])
    /// A tensor of the fixture whose shape does not follow from the configuration and the input.
    case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingTensor(let file, let name): "\(file) has no tensor '\(name)'"
        case .notAFixture(let path, let missing) where missing.isEmpty: "\(path) is not a folder (a parity fixture is a folder)"
        case .notAFixture(let path, let missing):
            "\(path) is not a parity fixture: it has no \(missing.joined(separator: ", ")) "
                + "(expected config.json, weights.safetensors, io.safetensors, expected.safetensors)"
        case .shapeMismatch(let file, let name, let expected, let found):
            "\(file): tensor '\(name)' has shape \(found), the configuration and input imply \(expected)"
        }
    }
}

/// Runs the fixture in `folder` (config.json, weights/io/expected.safetensors) in evaluation mode.
///
/// When a first pass fails, leaky-ReLU elements whose input lies within float32 rounding of zero
/// (`KinkControl.ambiguity`) are the one place where two correct float32 evaluations may take
/// different derivative branches. Up to `maximumBranchTrials` of them are tried on the other branch,
/// one more pass each, in the order of their first-order effect on the error (`linearisedFlipEffects`:
/// the flips predicted to remove the most error first); a flip is kept when it removes at least a
/// third of the squared error of all compared tensors, and every kept flip is listed in the report.
/// Tolerances never change.
public func runParity(fixture folder: URL, maximumBranchTrials: Int = 10) throws -> ParityReport {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
        throw ParityError.notAFixture(path: folder.path, missing: [])
    }
    let missing = ["config.json", "weights.safetensors", "io.safetensors", "expected.safetensors"].filter {
        !FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
    }
    guard missing.isEmpty else { throw ParityError.notAFixture(path: folder.path, missing: missing) }
    let config = try BackboneConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
    let model = try makeBackbone(config)
    try model.loadCheckpoint(folder.appendingPathComponent("weights.safetensors"))
    model.eval()
    let io = try SafetensorsArchive.read(contentsOf: folder.appendingPathComponent("io.safetensors"))
    let expected = try SafetensorsArchive.read(contentsOf: folder.appendingPathComponent("expected.safetensors"))
    func tensor(_ archive: SafetensorsArchive, _ name: String, _ file: String) throws -> Tensor {
        guard let t = archive[name] else { throw ParityError.missingTensor(file: file, name: name) }
        return t
    }
    let input = try tensor(io, "input", "io.safetensors"), gradOutput = try tensor(io, "grad_output", "io.safetensors")
    // Shapes are checked here, against the file, before any kernel would trap on them.
    guard input.rank == 5, input.shape[0] > 0, input.shape[1] == config.inChannels,
          model.acceptsInput(size: Array(input.shape[2...])) else {
        throw BackboneError.invalidInput("io.safetensors: fixture input \(input.shape) does not fit the configuration "
            + "(expected [N, \(config.inChannels), D, H, W] of a size the backbone takes)")
    }
    let outputShape = [input.shape[0], config.outChannels] + Array(input.shape[2...])
    guard gradOutput.shape == outputShape else {
        throw ParityError.shapeMismatch(file: "io.safetensors", name: "grad_output", expected: outputShape, found: gradOutput.shape)
    }
    let parameters = model.namedParameters()
    let references = try parameters.map { try tensor(expected, "grad." + $0.0, "expected.safetensors") }
    let expectedLogits = try tensor(expected, "logits", "expected.safetensors")
    let expectedInputGrad = try tensor(expected, "grad_input", "expected.safetensors")

    func pass(flipping flipped: Set<KinkControl.Site>) throws -> (ParityReport, [KinkControl.Candidate]) {
        model.clearGradients()
        input.clearGrad()
        input.setRequiresGrad(true)
        let control = KinkControl(flipped: flipped)
        model.instrument(with: control)
        let logits = model(input)
        (logits * gradOutput).sum().backward()
        let report = try compareWithReference(
            fixture: folder.lastPathComponent, backbone: config.kind, model: model, parameters: parameters,
            references: references, logits: logits, expectedLogits: expectedLogits, inputGrad: input.grad,
            expectedInputGrad: expectedInputGrad)
        return (report, control.candidates)
    }

    var (report, candidates) = try pass(flipping: [])
    var flipped: Set<KinkControl.Site> = []
    var passes = 1
    // The linearisation uses the gradients the model holds, so it is redone after each kept flip
    // (a rejected trial's gradients are never used for it).
    func effects() throws -> [KinkControl.Site: Double] {
        try linearisedFlipEffects(of: candidates, model: model, parameters: parameters, references: references,
                                  input: input, expectedInputGrad: expectedInputGrad)
    }
    var predicted = report.passed || candidates.isEmpty ? [:] : try effects()
    var tried: Set<KinkControl.Site> = []
    while !report.passed, passes <= maximumBranchTrials {
        let untried = candidates.filter { !tried.contains($0.site) && (predicted[$0.site] ?? 0) < 0 }
        guard let candidate = untried.min(by: { predicted[$0.site]! < predicted[$1.site]! }) else { break }
        tried.insert(candidate.site)
        let (trial, trialCandidates) = try pass(flipping: flipped.union([candidate.site]))
        passes += 1
        if trial.squaredError < (2.0 / 3) * report.squaredError {
            (report, candidates) = (trial, trialCandidates)
            flipped.insert(candidate.site)
            predicted = try effects()
        }
    }
    report.kinkBranchesFlipped = candidates.filter { flipped.contains($0.site) }.map {
        "\($0.site): input \($0.value) (\(String(format: "%.1e", $0.closeness)) of the tensor's largest magnitude)"
    }
    report.passes = passes
    report.kinkCandidates = candidates.count
    return report
}

/// One pass's comparisons: logits within 1e-4 and gradients within 1e-3 of each reference tensor's
/// largest magnitude, with the module noise floor for ill-conditioned gradients.
private func compareWithReference(
    fixture: String, backbone: String, model: any Backbone, parameters: [(String, Parameter)], references: [Tensor],
    logits: Tensor, expectedLogits: Tensor, inputGrad: Tensor?, expectedInputGrad: Tensor
) throws -> ParityReport {
    func compare(_ name: String, ours: Tensor?, reference: Tensor, tolerance: Double, floor: Double = 0)
        throws -> ParityReport.Comparison {
        let ours = ours ?? Tensor(zeros: reference.shape)  // never reached by the forward pass: gradient 0
        guard ours.shape == reference.shape else {
            throw ParityError.shapeMismatch(file: "expected.safetensors", name: name == "logits" || name == "grad_input" ? name : "grad." + name,
                                            expected: ours.shape, found: reference.shape)
        }
        let own = Double(Kernels.maxAbs(reference.pointer, count: reference.count))
        var worst = 0.0
        for i in 0..<reference.count { worst = max(worst, abs(Double(ours[flat: i]) - Double(reference[flat: i]))) }
        var comparison = ParityReport.Comparison(name: name, relativeError: own > 0 ? worst / own : worst, tolerance: tolerance)
        if !comparison.passed && floor > own {
            comparison = ParityReport.Comparison(name: name, relativeError: worst / floor, tolerance: tolerance)
            comparison.comparedAtModuleScale = true
        }
        return comparison
    }
    let logitsCheck = try compare("logits", ours: logits.detached(), reference: expectedLogits, tolerance: ParityReport.logitsTolerance)
    let inputCheck = try compare("grad_input", ours: inputGrad, reference: expectedInputGrad, tolerance: ParityReport.gradientTolerance)
    // Float32 cannot resolve a gradient far below those around it: e.g. a 1×1×1 convolution of a
    // one-channel input followed by instance norm is scale-invariant up to ε, and PyTorch's own float32
    // gradient there differs from its float64 one by ~5 % (docs/PARITY.md). Such gradients are compared
    // at a fraction of the largest gradient of the same top-level module.
    var moduleScale: [String: Double] = [:]
    for ((name, _), reference) in zip(parameters, references) {
        let top = String(name.prefix { $0 != "." })
        moduleScale[top] = max(moduleScale[top] ?? 0, Double(Kernels.maxAbs(reference.pointer, count: reference.count)))
    }
    var squaredError = 0.0
    func accumulate(_ ours: Tensor?, _ reference: Tensor) {
        guard let ours, ours.shape == reference.shape else { return }
        let scale = max(Double(Kernels.maxAbs(reference.pointer, count: reference.count)), 1e-30)
        for i in 0..<reference.count {
            let d = (Double(ours[flat: i]) - Double(reference[flat: i])) / scale
            squaredError += d * d
        }
    }
    accumulate(inputGrad, expectedInputGrad)
    for ((_, parameter), reference) in zip(parameters, references) { accumulate(parameter.grad, reference) }
    var gradients: [ParityReport.Comparison] = []
    for ((name, parameter), reference) in zip(parameters, references) {
        let floor = ParityReport.noiseFloor * (moduleScale[String(name.prefix { $0 != "." })] ?? 0)
        gradients.append(try compare(name, ours: parameter.grad, reference: reference,
                                     tolerance: ParityReport.gradientTolerance, floor: floor))
    }
    let all = [logitsCheck, inputCheck] + gradients
    var report = ParityReport(
        fixture: fixture, backbone: backbone, parameterCount: model.parameterCount,
        logits: logitsCheck, gradInput: inputCheck,
        worstGradient: gradients.max { $0.relativeError / $0.tolerance < $1.relativeError / $1.tolerance } ?? inputCheck,
        gradientsCompared: gradients.count,
        moduleScaleGradients: gradients.filter(\.comparedAtModuleScale).map(\.name),
        failures: all.filter { !$0.passed }, passed: all.allSatisfy(\.passed))
    report.squaredError = squaredError
    return report
}


