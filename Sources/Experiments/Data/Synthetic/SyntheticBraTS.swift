import Foundation
import Tensors
import Volumes

/// The BraTS-like source set for pretraining: head-like volumes (scalp, skull, CSF, cortex, white
/// matter with texture, lateral ventricles; zero air outside the head) with a tumour-like lesion in
/// one hemisphere: necrotic core, enhancing rim and surrounding oedema, each with an irregular
/// boundary. One FLAIR-like channel (oedema and rim bright, CSF dark); label 1 = whole tumour (core +
/// rim + oedema, inside the brain). 64 × 64 × 56 voxels of 2.5 mm. Deterministic per (seed, index).
public enum SyntheticBraTS {
    public static let defaultSubjects = 40
    public static let size = [64, 64, 56]
    public static let spacing = [2.5, 2.5, 2.5]

    /// Tissue intensities before bias and noise.
    static let scalp = 100.0, skull = 12.0, csf = 18.0, cortex = 95.0, whiteMatter = 78.0
    static let oedema = 130.0, rim = 190.0, necrosis = 65.0

    public static func generate(seed: UInt64, index: Int) throws -> SyntheticCase {
        let id = "brats_\(index)"
        var rng = RandomGenerator(seed: seed, stream: "synthetic.brats.\(index)")
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(rng.uniform()) }
        func direction() -> SIMD3<Double> {
            SIMD3(Double(rng.normal()), Double(rng.normal()), Double(rng.normal())).normalized
        }
        var canvas = SyntheticCanvas(size: size, spacing: spacing)
        let headScale = uniform(0.92, 1.04)
        let headSemi = SIMD3(66.0, 78.0, 60.0) * headScale
        let headCentre = SIMD3(uniform(-3, 3), uniform(-3, 3), uniform(-3, 3))
        let texture = SmoothField(rng: &rng, count: 5, wavelength: 45)
        let bias = SmoothField(rng: &rng, count: 3, wavelength: 220)
        let contrast = (0..<5).map { _ in uniform(0.94, 1.06) }

        // Layers by depth below the head's surface (mm, approximate).
        let head = canvas.evaluate { Shapes.ellipsoid($0, centre: headCentre, semiAxes: headSemi) }
        let grain = texture.sample(on: canvas)
        let layers: [(depth: Double, value: (Int) -> Float)] = [
            (0, { _ in Float(scalp * contrast[0]) }), (4, { _ in Float(skull) }), (9, { _ in Float(csf * contrast[1]) }),
            (11.5, { _ in Float(cortex * contrast[2]) }), (15, { Float(whiteMatter * contrast[3] * (1 + 0.08 * grain[$0])) }),
        ]
        for layer in layers { canvas.blendEverywhere(distance: { head[$0] + layer.depth }, value: layer.value) }
        let headDistance = { (p: SIMD3<Double>) in Shapes.ellipsoid(p, centre: headCentre, semiAxes: headSemi) }
        let brain = { (p: SIMD3<Double>) in headDistance(p) + 11.5 }

        let ventricleScale = uniform(0.8, 1.3)
        for side in [-1.0, 1.0] {
            let centre = headCentre + SIMD3(side * 8, -5, 10)
            let semi = SIMD3(5.5, 22, 8) * ventricleScale
            canvas.paint(box: Shapes.box(centre: centre, radius: semi.max() + 3), value: { _ in Float(csf * contrast[1]) },
                         labelValue: nil, distance: { Shapes.ellipsoid($0, centre: centre, semiAxes: semi) })
        }

        // The lesion: irregular nested boundaries around a centre deep in one hemisphere.
        let side: Double = rng.next() % 2 == 0 ? -1 : 1
        let lesionCentre = headCentre + SIMD3(side * uniform(18, 38), uniform(-40, 35), uniform(-12, 28))
        let radius = uniform(8, 20)
        let oedemaFactor = uniform(1.35, 2.0)
        let necrosisFraction = radius > 12 ? uniform(0.35, 0.6) : 0
        let bumps = (0..<3).map { _ in (direction(), uniform(-0.18, 0.18), uniform(2, 4).rounded()) }
        let oedemaBumps = (0..<3).map { _ in (direction(), uniform(-0.25, 0.25), uniform(1, 3).rounded()) }
        func irregular(_ p: SIMD3<Double>, _ r: Double, _ waves: [(SIMD3<Double>, Double, Double)]) -> Double {
            let d = p - lesionCentre
            let length = d.length
            guard length > 1e-9 else { return -r }
            let u = d / length
            var modulation = 1.0
            for (v, amplitude, frequency) in waves { modulation += amplitude * sin(frequency * acos(max(-1, min(1, u.dot(v))))) }
            return length - r * modulation
        }
        let reach = radius * oedemaFactor * 1.4 + 4
        let box = Shapes.box(centre: lesionCentre, radius: reach)
        // Oedema (whole-tumour label), only inside the brain.
        canvas.paint(box: box, value: { _ in Float(oedema * contrast[4]) }, labelValue: { _ in 1 },
                     distance: { p in max(irregular(p, radius * oedemaFactor, oedemaBumps), brain(p)) })
        canvas.paint(box: box, value: { _ in Float(rim) }, labelValue: { _ in 1 },
                     distance: { p in max(irregular(p, radius, bumps), brain(p)) })
        if necrosisFraction > 0 {
            canvas.paint(box: box, value: { _ in Float(necrosis) }, labelValue: { _ in 1 },
                         distance: { p in max(irregular(p, radius * necrosisFraction, bumps), brain(p)) })
        }

        let mask = head.map { canvas.occupancy($0) > 0.5 }
        var noise = RandomGenerator(seed: seed, stream: "synthetic.brats.\(index).noise")
        canvas.finish(bias: bias.sample(on: canvas), amplitude: 0.2, noiseSigma: uniform(3.5, 6), mask: mask, rng: &noise)
        let (image, label) = try canvas.volumes(name: id)
        return SyntheticCase(id: id, image: image, label: label)
    }
}
