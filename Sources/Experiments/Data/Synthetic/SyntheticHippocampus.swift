import Tensors
import Volumes

/// The three hippocampus-like target styles, mimicking the papers' data sets.
public enum HippocampusStyle: String, NamedChoice, Sendable, Equatable {
    /// EADC-ADNI HarP: 1 mm isotropic, T1-like, skull-stripped, 135 subjects.
    case harp
    /// LPBA40: 0.86 × 1.5 × 0.86 mm, another contrast and more noise, LAS voxel order (ANALYZE atlases), 40 subjects.
    case lpba40
    /// High field: 0.8 mm isotropic, high SNR, stronger bias field, tight field of view without
    /// background, 25 subjects.
    case hfh

    /// Fixed properties of the style.
    public var parameters: HippocampusStyleParameters {
        switch self {
        case .harp:
            return HippocampusStyleParameters(
                spacing: [1, 1, 1], size: [64, 64, 48], orientation: "RAS", defaultSubjects: 135,
                whiteMatter: 110, greyMatter: 72, csf: 28, hippocampus: 77, amygdala: 82,
                noiseSigma: 5, biasAmplitude: 0.12, skullStripped: true)
        case .lpba40:
            return HippocampusStyleParameters(
                spacing: [0.86, 1.5, 0.86], size: [72, 40, 60], orientation: "LAS", defaultSubjects: 40,
                whiteMatter: 150, greyMatter: 106, csf: 52, hippocampus: 99, amygdala: 112,
                noiseSigma: 8, biasAmplitude: 0.18, skullStripped: true)
        case .hfh:
            return HippocampusStyleParameters(
                spacing: [0.8, 0.8, 0.8], size: [64, 64, 56], orientation: "RAS", defaultSubjects: 25,
                whiteMatter: 120, greyMatter: 76, csf: 22, hippocampus: 84, amygdala: 89,
                noiseSigma: 2.5, biasAmplitude: 0.22, skullStripped: false)
        }
    }
}

/// What makes a style: grid, orientation, tissue intensities, noise, bias, background.
public struct HippocampusStyleParameters: Sendable, Equatable {
    /// Voxel size (i, j, k) in mm.
    public var spacing: [Double]
    /// Grid (i, j, k).
    public var size: [Int]
    /// Axis codes of the generated files ("RAS", or "LAS" for lpba40).
    public var orientation: String
    public var defaultSubjects: Int
    /// Mean tissue intensities before bias and noise.
    public var whiteMatter, greyMatter, csf, hippocampus, amygdala: Double
    /// Standard deviation of the noise.
    public var noiseSigma: Double
    /// Bias field: intensities multiplied by exp(amplitude · field), field in [−1, 1].
    public var biasAmplitude: Double
    /// Zero outside a brain mask (HarP, LPBA40), else tissue everywhere with Rician noise (HFH).
    public var skullStripped: Bool

    /// Field of view (mm) along i, j, k.
    public var fieldOfView: [Double] { (0..<3).map { Double(size[$0]) * spacing[$0] } }
}

/// One synthetic subject's anatomy, drawn from the generator's seed and index; edit it (e.g.
/// `leftVolumeFactor`) and render it to make subjects with given hippocampal volumes.
public struct HippocampusSubject: Codable, Sendable, Equatable {
    public var index: Int
    /// Overall linear size of the medial-temporal anatomy (0.93–1.07: hippocampal volumes vary by about 13 %).
    public var scale: Double
    /// Hippocampal volume multipliers (1 = this subject's natural size; 0.8 = 20 % volume loss). The
    /// cross-section radii scale with the square root, so the volume scales by the factor itself.
    public var leftVolumeFactor = 1.0
    public var rightVolumeFactor = 1.0
    /// Natural right/left asymmetry of the radii (right = left · (1 + asymmetry)).
    public var asymmetry: Double
    /// Half the distance between the two hippocampi (mm).
    public var separation: Double
    /// Position of the pair's centre (mm, RAS, relative to the grid centre).
    public var offset: [Double]
    /// Long-axis length (mm), tilt (degrees), upward tail bend and medial curl (mm).
    public var length, pitch, yaw, bend, curl: Double
    /// Multipliers of the tissue intensities (white matter, grey matter, CSF, hippocampus, amygdala).
    public var tissue: [Double]
    /// Multiplier of the style's noise.
    public var noise: Double
    /// Brain-mask size multiplier and ventricle size multiplier.
    public var brainScale, ventricleScale: Double
    /// Seed of the texture, bias field and noise realisation.
    public var textureSeed: UInt64
}

/// The hippocampus-like synthetic data: a medial-temporal field of view with white and grey matter
/// texture, a brain edge and cortex ribbon (skull-stripped styles), lateral ventricles, and on each
/// side a seahorse-shaped hippocampus (the label) with its neighbours: the temporal horn of the
/// ventricle (CSF, lateral-superior), the parahippocampal grey matter (inferior-medial, separated by a
/// thin white-matter layer) and the amygdala (anterior to the head, similar intensity, a millimetre
/// apart). Deterministic per (style, seed, index). The anatomy is scaled down to fit small grids: a
/// hippocampus holds about 700 mm³ per side (a real one 3000–4000 mm³), varying by about 13 % between
/// subjects; compare volumes relative to the nominal ones.
public enum SyntheticHippocampus {
    /// Base hippocampus dimensions at scale 1 (mm): length and head, body, tail radii.
    package static let baseLength = 24.0
    static let baseRadii = (head: 4.6, body: 3.0, tail: 1.7)

    /// The subject's anatomy drawn from `RandomGenerator(seed:, stream: "synthetic.hippocampus.<style>.<index>")`.
    public static func subject(style: HippocampusStyle, seed: UInt64, index: Int) -> HippocampusSubject {
        var rng = RandomGenerator(seed: seed, stream: "synthetic.hippocampus.\(style.rawValue).\(index)")
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(rng.uniform()) }
        let scale = uniform(0.93, 1.07)
        return HippocampusSubject(
            index: index, scale: scale, asymmetry: uniform(-0.01, 0.05), separation: uniform(12.5, 15.5),
            offset: [uniform(-1.5, 1.5), uniform(-3.5, 0.5), uniform(-4.5, -1.5)],
            length: baseLength * scale * uniform(0.95, 1.05), pitch: uniform(18, 32), yaw: uniform(4, 14),
            bend: uniform(2.5, 5.5), curl: uniform(0.5, 3), tissue: (0..<5).map { _ in uniform(0.95, 1.05) },
            noise: uniform(0.85, 1.15), brainScale: uniform(0.96, 1.04), ventricleScale: uniform(0.75, 1.3),
            textureSeed: rng.next())
    }

    /// Generates subject `index` (with optional volume factors applied to both sides).
    public static func generate(style: HippocampusStyle, seed: UInt64, index: Int, volumeFactor: Double = 1,
                                splitSides: Bool = false) throws -> SyntheticCase {
        var subject = subject(style: style, seed: seed, index: index)
        subject.leftVolumeFactor = volumeFactor
        subject.rightVolumeFactor = volumeFactor
        let id = SyntheticData.caseID(SyntheticSpec(kind: .hippocampus, style: style, subjects: index + 1), index: index)
        return try render(subject, style: style, id: id, splitSides: splitSides)
    }

    /// Draws a subject on the style's grid. Labels: 1 = hippocampus (or 1 = left, 2 = right with `splitSides`).
    public static func render(_ subject: HippocampusSubject, style: HippocampusStyle, id: String,
                              splitSides: Bool = false) throws -> SyntheticCase {
        let s = style.parameters
        var canvas = SyntheticCanvas(size: s.size, spacing: s.spacing, flipX: s.orientation == "LAS")
        var rng = RandomGenerator(seed: subject.textureSeed, stream: "texture")
        let texture = SmoothField(rng: &rng, count: 5, wavelength: 22)
        let bias = SmoothField(rng: &rng, count: 3, wavelength: 90)
        let wm = s.whiteMatter * subject.tissue[0], gm = s.greyMatter * subject.tissue[1]
        let csf = s.csf * subject.tissue[2], hippocampus = s.hippocampus * subject.tissue[3]
        let amygdala = s.amygdala * subject.tissue[4]
        let half = canvas.halfExtent

        // Tissue background: white matter with grey-matter blotches.
        let blotches = texture.sample(on: canvas)
        for n in canvas.intensity.indices { canvas.intensity[n] = Float(wm - (wm - gm) * 0.22 * (1 + blotches[n])) }

        // Brain edge and cortex ribbon (skull-stripped styles show the edge inside the field of view).
        var brainMask: [Bool]?
        if s.skullStripped {
            // Wider than the field of view at the top, curving into view laterally and inferiorly,
            // with its lowest point about 3 mm above the grid's bottom.
            let semi = SIMD3(half.x * 1.1, half.y * 1.8, half.z * 1.6) * subject.brainScale
            let centre = SIMD3(0, 0, -half.z + 3 + semi.z)
            let brain = canvas.evaluate { Shapes.ellipsoid($0, centre: centre, semiAxes: semi) }
            // The ribbon: inside the outer 2.5 mm of the brain.
            canvas.blendEverywhere(distance: { max(-(brain[$0] + 2.5), brain[$0]) }, value: { _ in Float(gm) })
            brainMask = brain.map { canvas.occupancy($0) > 0.5 }
        }

        // Lateral ventricles, superior.
        let o = SIMD3(subject.offset[0], subject.offset[1], subject.offset[2])
        for side in [-1.0, 1.0] {
            let centre = o + SIMD3(side * 5.5, -2, 16)
            let semi = SIMD3(2.6, 11, 3.2) * subject.ventricleScale
            canvas.paint(box: Shapes.box(centre: centre, radius: semi.max() + 2), value: { _ in Float(csf) }, labelValue: nil,
                         distance: { Shapes.ellipsoid($0, centre: centre, semiAxes: semi) })
        }

        for side in [-1.0, 1.0] {
            let factor = side < 0 ? subject.leftVolumeFactor : subject.rightVolumeFactor * (1 + subject.asymmetry)
            let r = subject.scale * max(factor, 0).squareRoot()
            let radii = (head: baseRadii.head * r, body: baseRadii.body * r, tail: baseRadii.tail * r)
            let centre = o + SIMD3(side * subject.separation, 0, 0)
            let tube = Seahorse(centre: centre, side: side, length: subject.length, pitch: subject.pitch, yaw: subject.yaw,
                                bend: subject.bend, curl: subject.curl, radii: radii)
            // Neighbours first, hippocampus last (it owns its voxels).
            let horn = tube.companion(lateralOffset: (1, 1.2), upOffset: (0.6, 0), radius: 1.1, from: 0.08, to: 0.75)
            canvas.paint(voxels: horn.voxels(on: canvas), value: { _ in Float(csf) }, labelValue: { _ in 0 }, distance: horn.distance)
            let gyrus = tube.companion(lateralOffset: (-0.3, -1), upOffset: (-1, -2.6), radius: 1.6, from: 0.05, to: 0.85)
            canvas.paint(voxels: gyrus.voxels(on: canvas), value: { _ in Float(gm) }, labelValue: { _ in 0 }, distance: gyrus.distance)
            let axis = (tube.points[0] - tube.points[4]).normalized
            let amygdalaCentre = tube.points[0] + axis * (radii.head * 0.5 + 5.6 * subject.scale) + tube.up[0] * 2.2
                - tube.lateral[0] * 0.5
            let amygdalaSemi = SIMD3(4.0, 4.4, 3.6) * subject.scale
            let frame = [axis, tube.lateral[0], tube.up[0]]
            canvas.paint(box: Shapes.box(centre: amygdalaCentre, radius: amygdalaSemi.max() + 2), value: { _ in Float(amygdala) },
                         labelValue: { _ in 0 },
                         distance: { Shapes.ellipsoid($0, centre: amygdalaCentre, axes: frame, semi: SIMD3(amygdalaSemi.y, amygdalaSemi.x, amygdalaSemi.z)) })
            let classValue: Float = splitSides ? (side < 0 ? 1 : 2) : 1
            canvas.paint(voxels: tube.voxels(on: canvas), value: { p in Float(hippocampus * (1 + 0.04 * texture(p * 1.7))) },
                         labelValue: { _ in classValue }, distance: tube.distance)
        }

        var noise = RandomGenerator(seed: subject.textureSeed, stream: "noise")
        canvas.finish(bias: bias.sample(on: canvas), amplitude: s.biasAmplitude, noiseSigma: s.noiseSigma * subject.noise,
                      mask: brainMask, rng: &noise)
        if let brainMask {
            for n in canvas.label.indices where !brainMask[n] { canvas.label[n] = 0 }
        }
        let (image, label) = try canvas.volumes(name: id)
        return SyntheticCase(id: id, image: image, label: label)
    }
}
