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
    /// Gradients that failed at their own scale, were below 1 % of their top-level module's largest
    /// gradient, and were therefore compared at that float32 noise floor instead.
    public let moduleScaleGradients: [String]
    public let failures: [Comparison]
    /// The kink record used (`kinks.json`), if any, and the leaky-ReLU elements where our float32
    /// input and the reference's were both within its tolerance of zero but on different sides, so
    /// our derivative took the reference's branch (see `KinkBranches`).
    public var kinkRecord: String?
    public var kinkBranchesAdopted: [String] = []
    public var passed: Bool { failures.isEmpty }

    public static let logitsTolerance = 1e-4
    public static let gradientTolerance = 1e-3
    /// A gradient whose largest magnitude is below this fraction of its top-level module's largest
    /// gradient is compared at that fraction of the module's scale instead of its own.
    public static let noiseFloor = 1e-2
}

public enum ParityError: Error, CustomStringConvertible {
    case missingTensor(file: String, name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case kinkRecord(file: String, String)

    public var description: String {
        switch self {
        case .missingTensor(let file, let name): "\(file) has no tensor '\(name)'"
        case .shapeMismatch(let name, let expected, let found): "'\(name)': reference shape \(expected), ours \(found)"
        case .kinkRecord(let file, let message): "\(file): \(message)"
        }
    }
}

/// `kinks.json` (scripts/parity_kinks.py): for each leaky-ReLU call of the reference's forward pass,
/// in order, its input shape and the elements within `tolerance`·max|x| of zero with their values.
public struct KinkRecord: Decodable, Sendable {
    public struct Call: Decodable, Sendable {
        public let module: String
        public let shape: [Int]
        /// [flat index, reference value] pairs.
        public let nearZero: [[Double]]
        enum CodingKeys: String, CodingKey { case module, shape, nearZero = "near_zero" }
    }
    public let tolerance: Double
    public let calls: [Call]

    public static func load(contentsOf url: URL) throws -> KinkRecord {
        do { return try JSONDecoder().decode(KinkRecord.self, from: Data(contentsOf: url)) } catch {
            throw ParityError.kinkRecord(file: url.path, describeDecodingError(error))
        }
    }
}

/// Float32 cannot tell the sign of a leaky ReLU's input that lies within rounding error of zero:
/// PyTorch and we sum in different orders and may take different branches there. The derivative at
/// that element then differs by 0.99·g, which convolutions and instance norms upstream spread into
/// grad_input and conv weight gradients by up to several percent, although both runs are correct
/// float32 evaluations (the float64 gradient taken on either branch matches one of them to ~1e-6;
/// Tests/ParityKinks/README.md has the measurements). During a parity run with a kink record, the n-th conv-block
/// activation takes the reference's branch at every element where both inputs are within the
/// record's tolerance of zero; the forward value is unchanged, and each adoption is reported.
final class KinkBranches: @unchecked Sendable {  // lives in one parity run's task; never shared across tasks
    @TaskLocal static var current: KinkBranches?

    let record: KinkRecord
    private(set) var calls = 0
    private(set) var adopted: [String] = []
    private(set) var mismatch: String?

    init(_ record: KinkRecord) { self.record = record }

    func activation(_ x: Tensor) -> Tensor {
        defer { calls += 1 }
        guard calls < record.calls.count else {
            mismatch = mismatch ?? "the model runs more leaky ReLUs than the reference's \(record.calls.count)"
            return leakyRelu(x)
        }
        let entry = record.calls[calls]
        guard entry.shape == x.shape else {
            mismatch = mismatch ?? "leaky ReLU \(calls) (\(entry.module)): reference input \(entry.shape), ours \(x.shape)"
            return leakyRelu(x)
        }
        let slope: Float = 0.01
        let limit = record.tolerance * Double(Kernels.maxAbs(x.pointer, count: x.count))
        var mask: Tensor?
        for pair in entry.nearZero {
            let i = Int(pair[0]), reference = pair[1], ours = x[flat: i]
            guard abs(Double(ours)) <= limit, (ours > 0) != (reference > 0) else { continue }
            if mask == nil {
                let m = Tensor(uninitialized: x.shape)
                for j in 0..<x.count { m[flat: j] = x[flat: j] > 0 ? 1 : slope }
                mask = m
            }
            mask![flat: i] = reference > 0 ? 1 : slope
            adopted.append("\(entry.module) (leaky ReLU \(calls)) element \(i): ours \(ours), reference \(reference)")
        }
        guard let mask else { return leakyRelu(x) }
        let y = x * mask                                  // the derivative the reference took
        return y + withoutGrad { leakyRelu(x) - y }       // and the forward value of ours
    }
}

/// Runs the fixture in `folder` (config.json, weights/io/expected.safetensors) in evaluation mode.
/// `kinks` is the fixture's kink record (default: `kinks.json` in the folder, when present).
public func runParity(fixture folder: URL, kinks: URL? = nil) throws -> ParityReport {
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
    guard model.acceptsInput(size: Array(input.shape[2...])) else {
        throw BackboneError.invalidInput("fixture input \(input.shape) does not fit the configuration")
    }
    input.setRequiresGrad(true)
    let kinkURL = kinks ?? folder.appendingPathComponent("kinks.json")
    let branches = try FileManager.default.fileExists(atPath: kinkURL.path)
        ? KinkBranches(KinkRecord.load(contentsOf: kinkURL)) : nil
    let logits = KinkBranches.$current.withValue(branches) { model(input) }
    if let branches {
        if let mismatch = branches.mismatch { throw ParityError.kinkRecord(file: kinkURL.path, mismatch) }
        guard branches.calls == branches.record.calls.count else {
            throw ParityError.kinkRecord(file: kinkURL.path, "the reference ran \(branches.record.calls.count) leaky ReLUs, ours \(branches.calls)")
        }
    }
    (logits * gradOutput).sum().backward()

    func compare(_ name: String, ours: Tensor?, reference: Tensor, tolerance: Double, floor: Double = 0)
        throws -> ParityReport.Comparison {
        let ours = ours ?? Tensor(zeros: reference.shape)  // never reached by the forward pass: gradient 0
        guard ours.shape == reference.shape else {
            throw ParityError.shapeMismatch(name: name, expected: reference.shape, found: ours.shape)
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
    let logitsCheck = try compare("logits", ours: logits.detached(), reference: try tensor(expected, "logits", "expected.safetensors"),
                                  tolerance: ParityReport.logitsTolerance)
    let inputCheck = try compare("grad_input", ours: input.grad, reference: try tensor(expected, "grad_input", "expected.safetensors"),
                                 tolerance: ParityReport.gradientTolerance)
    // Float32 cannot resolve a gradient far below those around it: e.g. a 1×1×1 convolution of a
    // one-channel input followed by instance norm is scale-invariant up to ε, and PyTorch's own float32
    // gradient there differs from its float64 one by ~5 % (docs/PARITY.md). Such gradients are compared
    // at a fraction of the largest gradient of the same top-level module.
    let parameters = model.namedParameters()
    let references = try parameters.map { try tensor(expected, "grad." + $0.0, "expected.safetensors") }
    var moduleScale: [String: Double] = [:]
    for ((name, _), reference) in zip(parameters, references) {
        let top = String(name.prefix { $0 != "." })
        moduleScale[top] = max(moduleScale[top] ?? 0, Double(Kernels.maxAbs(reference.pointer, count: reference.count)))
    }
    var gradients: [ParityReport.Comparison] = []
    for ((name, parameter), reference) in zip(parameters, references) {
        let floor = ParityReport.noiseFloor * (moduleScale[String(name.prefix { $0 != "." })] ?? 0)
        gradients.append(try compare(name, ours: parameter.grad, reference: reference,
                                     tolerance: ParityReport.gradientTolerance, floor: floor))
    }
    let all = [logitsCheck, inputCheck] + gradients
    var report = ParityReport(
        fixture: folder.lastPathComponent, backbone: config.kind, parameterCount: model.parameterCount,
        logits: logitsCheck, gradInput: inputCheck,
        worstGradient: gradients.max { $0.relativeError / $0.tolerance < $1.relativeError / $1.tolerance } ?? inputCheck,
        gradientsCompared: gradients.count,
        moduleScaleGradients: gradients.filter(\.comparedAtModuleScale).map(\.name),
        failures: all.filter { !$0.passed })
    report.kinkRecord = branches.map { _ in kinkURL.lastPathComponent }
    report.kinkBranchesAdopted = branches?.adopted ?? []
    return report
}
