import Foundation
import Tensors
import XCTest

/// A two-layer 3-D conv net, small enough to train in a test.
private final class TinySegmenter: Module {
    let conv1: Conv3d, conv2: Conv3d, head: Conv3d
    let norm: InstanceNorm3d

    init(rng: inout RandomGenerator) {
        conv1 = Conv3d(1, 8, kernel: [3, 3, 3], padding: [1, 1, 1], rng: &rng)
        norm = InstanceNorm3d(8, affine: true)
        conv2 = Conv3d(8, 8, kernel: [3, 3, 3], padding: [1, 1, 1], rng: &rng)
        head = Conv3d(8, 2, kernel: [1, 1, 1], rng: &rng)
    }

    override var children: [(String, Module)] { [("conv1", conv1), ("norm", norm), ("conv2", conv2), ("head", head)] }

    func callAsFunction(_ x: Tensor) -> Tensor { head(relu(conv2(leakyRelu(norm(conv1(x)))))) }
}

/// A bright ball on a noisy background, and its mask.
private func syntheticBall(size: Int, seed: UInt64) -> (image: Tensor, label: Tensor) {
    var rng = RandomGenerator(seed: seed)
    let image = Tensor(uninitialized: [1, 1, size, size, size]), label = Tensor(zeros: [1, size, size, size])
    let centre = (0..<3).map { _ in Float(size) / 2 + rng.uniform(-2, 2) }
    let radius = Float(size) / 4 + rng.uniform(-1, 1)
    for z in 0..<size { for y in 0..<size { for x in 0..<size {
        let d = ((Float(z) - centre[0]) * (Float(z) - centre[0]) + (Float(y) - centre[1]) * (Float(y) - centre[1])
                 + (Float(x) - centre[2]) * (Float(x) - centre[2])).squareRoot()
        let i = (z * size + y) * size + x
        let inside = d < radius
        label.pointer[i] = inside ? 1 : 0
        image.pointer[i] = (inside ? 1 : 0) + 0.3 * rng.normal()
    }}}
    return (image, label)
}

private func dice(_ logits: Tensor, _ label: Tensor) -> Double {
    let voxels = label.count
    var intersection = 0, predicted = 0, reference = 0
    for v in 0..<voxels {
        let foreground = logits.pointer[voxels + v] > logits.pointer[v]
        let truth = label.pointer[v] == 1
        if foreground { predicted += 1 }
        if truth { reference += 1 }
        if foreground && truth { intersection += 1 }
    }
    return 2 * Double(intersection) / Double(max(predicted + reference, 1))
}

final class TrainingTests: XCTestCase {
    func testTinyConvNetOverfitsASyntheticSegmentation() {
        var rng = RandomGenerator(seed: 1)
        let model = TinySegmenter(rng: &rng)
        let (image, label) = syntheticBall(size: 16, seed: 2)
        let optimizer = Adam(model.trainableParameters(), learningRate: 1e-2, amsgrad: true)
        var losses: [Float] = []
        for _ in 0..<60 {
            optimizer.zeroGrad()
            let loss = softmaxDiceLoss(logits: model(image), labels: label)
            loss.backward()
            optimizer.step()
            losses.append(loss.scalar)
        }
        let score = withoutGrad { dice(model(image), label) }
        XCTAssertGreaterThan(score, 0.95, "Dice after training: \(score); losses \(losses.first!) → \(losses.last!)")
        XCTAssertLessThan(losses.last!, losses.first! * 0.5)
    }

    func testFrozenLayerHasNoGradientAndNoWeightGradientWork() {
        var rng = RandomGenerator(seed: 3)
        let model = TinySegmenter(rng: &rng)
        let (image, label) = syntheticBall(size: 8, seed: 4)
        func weightGradientsInOneStep() -> Int {
            model.clearGradients()
            KernelCounters.reset()
            crossEntropyLoss(logits: model(image), labels: label).backward()
            return KernelCounters.weightGradients.load(ordering: .relaxed)
        }
        XCTAssertEqual(weightGradientsInOneStep(), 3)
        model.conv1.weight.isTrainable = false
        model.conv2.freeze()
        XCTAssertEqual(weightGradientsInOneStep(), 1)
        XCTAssertNil(model.conv1.weight.grad)
        XCTAssertNil(model.conv2.weight.grad)
        XCTAssertNotNil(model.conv1.bias?.grad, "conv1's bias still trains")
        XCTAssertNotNil(model.head.weight.grad)
        let optimizer = Adam(model.trainableParameters(), learningRate: 1e-3)
        XCTAssertFalse(optimizer.parameters.contains { $0.0.hasPrefix("conv2.") })
    }

    func testSteadyStateTrainingStepsAllocateNothingNew() {
        var rng = RandomGenerator(seed: 5)
        let model = TinySegmenter(rng: &rng)
        let (image, label) = syntheticBall(size: 12, seed: 6)
        let optimizer = Adam(model.trainableParameters(), learningRate: 1e-3)
        func step() {
            optimizer.zeroGrad()
            diceCrossEntropyLoss(logits: model(image), labels: label).backward()
            optimizer.step()
        }
        // The pool keeps held memory near the most ever live, so its sizes take a few steps to settle.
        for _ in 0..<5 { step() }
        let before = BufferPool.shared.statistics.freshAllocations
        step(); step()
        XCTAssertEqual(BufferPool.shared.statistics.freshAllocations, before, "buffers allocated after warm-up")
    }

    func testAdamStepMatchesPyTorchFormula() {
        // One parameter, two steps of Adam(amsgrad, weight decay 0.1), against the update written out.
        let p = Parameter(Tensor([1.0, -2.0], shape: [2]))
        let optimizer = Adam([("p", p)], learningRate: 0.1, weightDecay: 0.1, amsgrad: true)
        var expected: [Double] = [1, -2]
        var m = [0.0, 0.0], v = [0.0, 0.0], vmax = [0.0, 0.0]
        for t in 1...2 {
            optimizer.zeroGrad()
            (p.value * p.value).sum().backward()     // gradient 2p
            optimizer.step()
            for i in 0..<2 {
                let g = 2 * expected[i] + 0.1 * expected[i]
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                vmax[i] = max(vmax[i], v[i])
                let bc1 = 1 - pow(0.9, Double(t)), bc2 = 1 - pow(0.999, Double(t))
                expected[i] -= 0.1 / bc1 * m[i] / (vmax[i].squareRoot() / bc2.squareRoot() + 1e-8)
            }
        }
        XCTAssertEqual(Double(p.value[flat: 0]), expected[0], accuracy: 1e-5)
        XCTAssertEqual(Double(p.value[flat: 1]), expected[1], accuracy: 1e-5)
    }

    func testSGDWithMomentumAndNesterov() {
        let p = Parameter(Tensor([1.0], shape: [1]))
        let optimizer = SGD([("p", p)], learningRate: 0.1, momentum: 0.9, nesterov: true)
        var x = 1.0, buffer = 0.0
        for t in 0..<3 {
            optimizer.zeroGrad()
            (p.value * p.value).sum().backward()
            optimizer.step()
            let g = 2 * x
            buffer = t == 0 ? g : 0.9 * buffer + g
            x -= 0.1 * (g + 0.9 * buffer)
        }
        XCTAssertEqual(Double(p.value[flat: 0]), x, accuracy: 1e-6)
    }

    func testSchedules() {
        let poly = LearningRateSchedule.poly(power: 0.9)
        XCTAssertEqual(poly.rate(base: 1e-3, step: 0, total: 1000), 1e-3)
        XCTAssertEqual(poly.rate(base: 1e-3, step: 500, total: 1000), 0.00053589, accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule.cosine.rate(base: 1, step: 50, total: 100), 0.5, accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule.constant.rate(base: 1, step: 0, total: 100, warmup: 4), 0.25)
    }

    func testGradientClipping() {
        let p = Parameter(Tensor([3, 4], shape: [2]))
        (p.value * Tensor([1, 1], shape: [2])).sum().backward()   // gradient (1, 1), norm √2
        let norm = clipGradientNorm([("p", p)], maxNorm: 1)
        XCTAssertEqual(norm, Float(2).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(p.grad!.values[0], 1 / Float(2).squareRoot(), accuracy: 1e-5)
    }
}

final class LossTests: XCTestCase {
    func testSoftmaxDiceLossByHand() {
        // Two voxels, two classes; logits chosen so the softmax is (0.8, 0.2) and (0.2, 0.8).
        let l = log(Float(4))
        let logits = Tensor([l, 0, 0, l], shape: [1, 2, 1, 1, 2])   // class 0: (l, 0); class 1: (0, l)
        let labels = Tensor([0, 1], shape: [1, 1, 1, 2])
        // Class 0: p = (0.8, 0.2), t = (1, 0): 1 − 2·0.8/(Σp + Σt + ε) = 1 − 1.6/(1 + 1 + ε); class 1 likewise.
        let perClass = 1 - 1.6 / (1.0 + 1.0 + 1e-5)
        XCTAssertEqual(Double(softmaxDiceLoss(logits: logits, labels: labels).scalar), 2 * perClass, accuracy: 1e-5)
        XCTAssertEqual(Double(crossEntropyLoss(logits: logits, labels: labels).scalar), -Foundation.log(0.8), accuracy: 1e-5)
        let monai = 1 - (1.6 + 1e-5) / (1.0 + 1.0 + 1e-5)
        XCTAssertEqual(Double(monaiDiceLoss(logits: logits, labels: labels).scalar), monai, accuracy: 1e-5)
    }

    func testLossGradients() {
        let logits = randomTensor([2, 3, 2, 2, 1], seed: 1)
        let labels = Tensor([0, 1, 2, 1, 2, 2, 0, 0], shape: [2, 2, 2, 1])
        checkGradients([logits]) { softmaxDiceLoss(logits: $0[0], labels: labels) }
        checkGradients([logits]) { diceCrossEntropyLoss(logits: $0[0], labels: labels) }
    }
}

final class LinearAlgebraTests: XCTestCase {
    func testSVDReconstructs() throws {
        let a = randomTensor([7, 4], seed: 3)
        let svd = try singularValueDecomposition(a)
        XCTAssertEqual(svd.s, svd.s.sorted(by: >))
        let scaled = svd.u * Tensor(svd.s, shape: [4])
        let rebuilt = matmul(scaled, svd.vt)
        for (x, y) in zip(rebuilt.values, a.values) { XCTAssertEqual(x, y, accuracy: 1e-5) }
    }
}

final class StateDictTests: XCTestCase {
    func testStrictLoadListsEveryProblem() {
        var rng = RandomGenerator(seed: 1)
        let model = TinySegmenter(rng: &rng)
        var tensors = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.detached()) })
        tensors["conv1.weight"] = nil
        tensors["extra.weight"] = Tensor(zeros: [1])
        tensors["head.bias"] = Tensor(zeros: [3])
        XCTAssertThrowsError(try model.load(tensors)) { error in
            let text = "\(error)"
            XCTAssert(text.contains("missing: conv1.weight"), text)
            XCTAssert(text.contains("unexpected: extra.weight"), text)
            XCTAssert(text.contains("head.bias (model [2], checkpoint [3])"), text)
        }
    }

    func testLoadCopiesValues() throws {
        var rng = RandomGenerator(seed: 1)
        let source = TinySegmenter(rng: &rng), target = TinySegmenter(rng: &rng)
        try target.load(Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) }))
        XCTAssertEqual(target.conv2.weight.value.values, source.conv2.weight.value.values)
        XCTAssertEqual(source.stateDict().map(\.name),
                       ["conv1.weight", "conv1.bias", "norm.weight", "norm.bias", "conv2.weight", "conv2.bias", "head.weight", "head.bias"])
    }
}
