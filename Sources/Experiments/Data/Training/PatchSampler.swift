import Tensors

/// Seeded training batches: random patches with foreground oversampling, flips and intensity scale and
/// shift. Cases are visited in shuffled epochs (every case once per epoch). Each kind of random choice
/// has its own stream of the run's seed (`sampler.order`, `sampler.centre`, `sampler.flip`,
/// `sampler.intensity`), so changing one augmentation never shifts another's draws.
public struct PatchSampler: Sendable, BatchSource {
    public let options: AugmentationOptions
    private let cases: [PreparedCase]
    /// Flat indices of each case's foreground voxels (label > 0).
    private let foreground: [[Int32]]
    private var orderRNG, centreRNG, flipRNG, intensityRNG: RandomGenerator
    private var order: [Int] = []
    private var position = 0
    /// Patch size as (i, j, k).
    private let patch: [Int]

    /// One augmented patch: image and label voxels in NIfTI order of the patch, and where it was cut.
    public struct Sample: Sendable {
        public var caseID: String
        public var image: [Float]
        public var label: [Float]
        /// The chosen centre voxel (i, j, k) in the case's grid (a uniform crop's window centre).
        public var centre: [Int]
        /// Whether the centre was drawn from the foreground.
        public var foregroundCentre: Bool
        /// Flips applied, per NIfTI axis.
        public var flipped: [Bool]
    }

    public init(cases: [PreparedCase], options: AugmentationOptions, seed: UInt64) throws {
        guard !cases.isEmpty else {
            throw DataError.noCases(dataset: "training", hint: "the patch sampler needs at least one case")
        }
        let dataset = cases[0].dataset
        guard options.patchSize.count == 3, options.patchSize.allSatisfy({ (1...1024).contains($0) }) else {
            throw DataError.invalidSpec(dataset: dataset, field: "patch_size", reason: "needs 3 sizes of 1 to 1024, got \(options.patchSize)")
        }
        guard (1...1024).contains(options.batchSize) else {
            throw DataError.invalidSpec(dataset: dataset, field: "batch_size", reason: "must be 1 to 1024, got \(options.batchSize)")
        }
        guard options.flipAxes.allSatisfy({ (0...2).contains($0) }), options.intensityScale.count == 2 else {
            throw DataError.invalidSpec(dataset: dataset, field: "augmentation",
                                        reason: "flip_axes must be 0, 1, 2 and intensity_scale [low, high]")
        }
        self.cases = cases
        self.options = options
        patch = options.patchSize
        foreground = cases.map { c in
            c.label.indices.compactMap { c.label[$0] > 0 ? Int32($0) : nil }
        }
        (orderRNG, centreRNG, flipRNG, intensityRNG) = Self.streams(seed)
    }

    /// Restarts every stream from `seed` and begins a new shuffled pass, so the draws that follow are
    /// those of a sampler built with `seed`; the cases, their foreground and the checked options stay.
    public mutating func reseed(_ seed: UInt64) {
        (orderRNG, centreRNG, flipRNG, intensityRNG) = Self.streams(seed)
        order = []
        position = 0
    }

    private static func streams(_ seed: UInt64) -> (RandomGenerator, RandomGenerator, RandomGenerator, RandomGenerator) {
        (RandomGenerator(seed: seed, stream: "sampler.order"), RandomGenerator(seed: seed, stream: "sampler.centre"),
         RandomGenerator(seed: seed, stream: "sampler.flip"), RandomGenerator(seed: seed, stream: "sampler.intensity"))
    }

    /// The next batch: image [B, 1, k, j, i] and label [B, k, j, i] (patch size given as (i, j, k)).
    public mutating func nextBatch() -> (image: Tensor, label: Tensor) {
        let shape = AxisOrder.tensorShape(fromNIfTI: patch)
        let b = options.batchSize
        let per = patch.reduce(1, *)
        let image = Tensor(uninitialized: [b, 1] + shape)
        let label = Tensor(uninitialized: [b] + shape)
        for n in 0..<b {
            let sample = nextSample()
            sample.image.withUnsafeBufferPointer { image.pointer.advanced(by: n * per).update(from: $0.baseAddress!, count: per) }
            sample.label.withUnsafeBufferPointer { label.pointer.advanced(by: n * per).update(from: $0.baseAddress!, count: per) }
        }
        return (image, label)
    }

    /// The next augmented patch (what `nextBatch` stacks).
    public mutating func nextSample() -> Sample {
        if position == order.count {
            order = Array(cases.indices)
            order.shuffle(using: &orderRNG)
            position = 0
        }
        let index = order[position]
        position += 1
        let c = cases[index]
        let size = c.gridSize

        // Centre: a foreground voxel with probability `foregroundRatio`, else any voxel.
        let wantForeground = Double(centreRNG.uniform()) < options.foregroundRatio
        var centre: [Int]
        let fromForeground = wantForeground && !foreground[index].isEmpty
        if fromForeground {
            let flat = Int(foreground[index][Int(centreRNG.next() % UInt64(foreground[index].count))])
            centre = [flat % size[0], (flat / size[0]) % size[1], flat / (size[0] * size[1])]
        } else {
            centre = size.map { Int(centreRNG.next() % UInt64($0)) }
        }
        // Window start: centred on `centre`, shifted to stay inside the volume where it fits; a volume
        // smaller than the patch sits inside it (the rest padded). Uniform crops draw the start itself.
        let start = (0..<3).map { axis -> Int in
            let low = min(0, size[axis] - patch[axis])
            let high = max(0, size[axis] - patch[axis])
            if options.crops == .uniform && !fromForeground {
                return low + Int(centreRNG.next() % UInt64(high - low + 1))
            }
            let wanted = centre[axis] - patch[axis] / 2
            return min(max(wanted, low), high)
        }
        if options.crops == .uniform && !fromForeground { centre = (0..<3).map { start[$0] + patch[$0] / 2 } }
        var image = Window.cut(c.image, size: size, start: start, windowSize: patch, fill: c.background)
        var label = Window.cut(c.label, size: size, start: start, windowSize: patch, fill: 0)

        var flipped = [false, false, false]
        for axis in options.flipAxes.sorted() where Double(flipRNG.uniform()) < options.flipProbability {
            flipped[axis] = true
        }
        if flipped.contains(true) {
            image = Self.flip(image, size: patch, axes: flipped)
            label = Self.flip(label, size: patch, axes: flipped)
        }

        let (scales, shifts) = intensityDraws(intensityStd: c.intensityStd)
        if scales.count == 1 && shifts.count == 1 {
            // Scale, then shift, in two roundings as before `j_slices` existed: earlier records reproduce.
            for n in image.indices { image[n] *= scales[0] }
            for n in image.indices { image[n] += shifts[0] }
        } else {
            // One draw per index j of the patch (i fastest in the NIfTI-ordered voxels).
            for n in image.indices {
                let j = (n / patch[0]) % patch[1]
                image[n] = image[n] * scales[j] + shifts[j]
            }
        }
        return Sample(caseID: c.id, image: image, label: label, centre: centre, foregroundCentre: fromForeground,
                      flipped: flipped)
    }

    /// The intensity scale(s) and shift(s) of one patch: one of each (`crop`; the shift × the case's
    /// SD; identity when the probability draw says no), or one per index of the j axis (`j_slices`: the
    /// authors' U(low, high) scale and absolute U(−shift, shift) shift, a [1, patch_j, 1, 1] draw).
    public mutating func intensityDraws(intensityStd: Float) -> (scales: [Float], shifts: [Float]) {
        let range = options.intensityScale
        let count = options.intensityDraw == .jSlices ? patch[1] : 1
        var scales = [Float](repeating: 1, count: count), shifts = [Float](repeating: 0, count: count)
        let shiftUnit: Float = options.intensityDraw == .jSlices ? 1 : intensityStd
        if Double(intensityRNG.uniform()) < options.intensityProbability {
            for j in 0..<count { scales[j] = Float(range[0]) + Float(range[1] - range[0]) * intensityRNG.uniform() }
        }
        if Double(intensityRNG.uniform()) < options.intensityProbability {
            // (shift × u) × SD, in that order (the rounding of earlier records).
            for j in 0..<count { shifts[j] = Float(options.intensityShift) * intensityRNG.uniform(-1, 1) * shiftUnit }
        }
        return (scales, shifts)
    }

    /// Reverses the flagged axes of a NIfTI-ordered block of `size` (i, j, k).
    static func flip(_ voxels: [Float], size: [Int], axes: [Bool]) -> [Float] {
        Reorientation(sourceAxis: [0, 1, 2], flipped: axes).apply(voxels, size: size)
    }
}
