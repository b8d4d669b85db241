import Foundation
import Tensors
import Volumes

/// A voxel grid on which synthetic anatomy is painted in world coordinates (mm): each shape gives a
/// signed distance (negative inside), which becomes a soft occupancy over about one voxel (partial
/// volume). A shape's intensity is blended in by that occupancy and its label written where the
/// occupancy exceeds one half, so painting order decides both, and labels always sit where the
/// intensity says. Noise and bias come last.
struct SyntheticCanvas {
    let size: [Int]
    let spacing: [Double]
    /// Voxel → world (mm).
    let affine: Matrix4
    var intensity: [Float]
    var label: [Float]
    /// Width (mm) over which an edge goes from fully outside to fully inside.
    let edge: Double

    init(size: [Int], spacing: [Double], flipX: Bool = false) {
        self.size = size
        self.spacing = spacing
        // Centred on the world origin; LAS grids run i towards the left.
        var m = Matrix4.identity
        for axis in 0..<3 {
            let sign: Double = axis == 0 && flipX ? -1 : 1
            m[axis, axis] = sign * spacing[axis]
            m[axis, 3] = -sign * spacing[axis] * Double(size[axis] - 1) / 2
        }
        affine = m
        intensity = [Float](repeating: 0, count: size.reduce(1, *))
        label = [Float](repeating: 0, count: size.reduce(1, *))
        edge = spacing.min()!
    }

    /// Half the field of view along each world axis (mm).
    var halfExtent: SIMD3<Double> {
        SIMD3((0..<3).map { Double(size[$0] - 1) * spacing[$0] / 2 })
    }

    @inline(__always)
    func world(_ i: Int, _ j: Int, _ k: Int) -> SIMD3<Double> {
        SIMD3(affine[0, 0] * Double(i) + affine[0, 3], affine[1, 1] * Double(j) + affine[1, 3],
              affine[2, 2] * Double(k) + affine[2, 3])
    }

    /// Voxel index ranges covering a world box.
    func voxelRange(_ low: SIMD3<Double>, _ high: SIMD3<Double>) -> [Range<Int>] {
        (0..<3).map { axis in
            let a = (low[axis] - affine[axis, 3]) / affine[axis, axis]
            let b = (high[axis] - affine[axis, 3]) / affine[axis, axis]
            let lo = max(0, Int(min(a, b).rounded(.down)) - 1)
            let hi = min(size[axis], Int(max(a, b).rounded(.up)) + 2)
            return lo..<max(lo, hi)
        }
    }

    /// Soft occupancy of a signed distance (mm).
    @inline(__always)
    func occupancy(_ distance: Double) -> Double { min(1, max(0, 0.5 - distance / edge)) }

    /// Blends `value` into the voxels of the world box by the shape's occupancy; sets the label to
    /// `labelValue` where the occupancy exceeds one half (nil leaves labels alone, 0 erases them).
    mutating func paint(
        box: (low: SIMD3<Double>, high: SIMD3<Double>), value: (SIMD3<Double>) -> Float, labelValue: ((SIMD3<Double>) -> Float)?,
        distance: (SIMD3<Double>) -> Double
    ) {
        let ranges = voxelRange(box.low, box.high)
        let (nx, ny) = (size[0], size[0] * size[1])
        for k in ranges[2] {
            for j in ranges[1] {
                for i in ranges[0] {
                    let p = world(i, j, k)
                    let alpha = occupancy(distance(p))
                    guard alpha > 0 else { continue }
                    let n = k * ny + j * nx + i
                    intensity[n] = intensity[n] * Float(1 - alpha) + value(p) * Float(alpha)
                    if alpha > 0.5, let labelValue { label[n] = labelValue(p) }
                }
            }
        }
    }

    /// Like `paint(box:...)`, over the given voxel indices only (e.g. those near a thin shape).
    mutating func paint(
        voxels: [Int], value: (SIMD3<Double>) -> Float, labelValue: ((SIMD3<Double>) -> Float)?,
        distance: (SIMD3<Double>) -> Double
    ) {
        let (nx, ny) = (size[0], size[0] * size[1])
        for n in voxels {
            let p = world(n % nx, (n / nx) % size[1], n / ny)
            let alpha = occupancy(distance(p))
            guard alpha > 0 else { continue }
            intensity[n] = intensity[n] * Float(1 - alpha) + value(p) * Float(alpha)
            if alpha > 0.5, let labelValue { label[n] = labelValue(p) }
        }
    }

    /// Indices (ascending) of the voxels whose centres lie within `reach[n]` mm of `points[n]` for some n.
    func voxels(near points: [SIMD3<Double>], reach: [Double]) -> [Int] {
        var marked = [Bool](repeating: false, count: intensity.count)
        let (nx, ny) = (size[0], size[0] * size[1])
        for (point, r) in zip(points, reach) {
            let ranges = voxelRange(point - r, point + r)
            for k in ranges[2] {
                for j in ranges[1] {
                    for i in ranges[0] where !marked[k * ny + j * nx + i] {
                        let d = world(i, j, k) - point
                        if d.dot(d) <= r * r { marked[k * ny + j * nx + i] = true }
                    }
                }
            }
        }
        return marked.indices.filter { marked[$0] }
    }

    /// `f` at every voxel centre, in voxel order.
    func evaluate(_ f: (SIMD3<Double>) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: intensity.count)
        var n = 0
        for k in 0..<size[2] { for j in 0..<size[1] { for i in 0..<size[0] {
            out[n] = f(world(i, j, k))
            n += 1
        } } }
        return out
    }

    /// Blends a layer over the whole grid, voxel by voxel (index-based, for precomputed fields).
    mutating func blendEverywhere(distance: (Int) -> Double, value: (Int) -> Float) {
        for n in intensity.indices {
            let alpha = occupancy(distance(n))
            guard alpha > 0 else { continue }
            intensity[n] = intensity[n] * Float(1 - alpha) + value(n) * Float(alpha)
        }
    }

    /// Multiplies by exp(amplitude · bias) and adds noise: Gaussian where `mask` holds (skull-stripped
    /// data keeps exact zeros outside), or Rician (magnitude) everywhere when `mask` is nil.
    mutating func finish(bias: [Double], amplitude: Double, noiseSigma: Double, mask: [Bool]?, rng: inout RandomGenerator) {
        let sigma = Float(noiseSigma)
        for n in intensity.indices {
            if let mask, !mask[n] {
                intensity[n] = 0
                continue
            }
            let value = intensity[n] * Float(exp(amplitude * bias[n]))
            let (g1, g2) = Self.gaussianPair(&rng)
            if mask != nil {
                intensity[n] = max(0.5, value + sigma * g1)
            } else {
                let real = value + sigma * g1, imaginary = sigma * g2
                intensity[n] = (real * real + imaginary * imaginary).squareRoot()
            }
        }
    }

    /// Two independent standard normal numbers from one Box–Muller draw.
    @inline(__always)
    static func gaussianPair(_ rng: inout RandomGenerator) -> (Float, Float) {
        let u1 = max(Double(rng.next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let angle = 2 * Double.pi * Double(rng.next() >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        return (Float(r * cos(angle)), Float(r * sin(angle)))
    }

    /// The image and label as volumes on this grid.
    func volumes(name: String) throws -> (image: Volume, label: Volume) {
        let geometry = Geometry(spacing: spacing, affine: affine.affine)
        let image = try Volume(shape: size, voxels: intensity, geometry: geometry, name: name)
        let labels = try Volume(shape: size, voxels: label, geometry: geometry, name: name + " label")
        return (image, labels)
    }
}

/// A smooth random field in [-1, 1]: a few low-frequency cosines with random directions and phases.
struct SmoothField: Sendable {
    var waves: [(direction: SIMD3<Double>, phase: Double, weight: Double)]

    /// `wavelength` (mm) sets the coarsest scale; each further wave is shorter.
    init(rng: inout RandomGenerator, count: Int = 4, wavelength: Double) {
        waves = (0..<count).map { n in
            var d = SIMD3<Double>(Double(rng.normal()), Double(rng.normal()), Double(rng.normal()))
            let length = (d * d).sum().squareRoot()
            d = length > 1e-9 ? d / length : SIMD3(1, 0, 0)
            let k = 2 * Double.pi / (wavelength / (1 + 0.6 * Double(n)))
            return (d * k, Double(rng.uniform()) * 2 * .pi, 1 / (1 + Double(n)))
        }
        let total = waves.reduce(0) { $0 + $1.weight }
        waves = waves.map { ($0.direction, $0.phase, $0.weight / total) }
    }

    func callAsFunction(_ p: SIMD3<Double>) -> Double {
        var value = 0.0
        for wave in waves { value += wave.weight * cos((wave.direction * p).sum() + wave.phase) }
        return value
    }

    /// The field at every voxel of `canvas` (voxel order), by rotating each wave's phase along rows
    /// instead of calling cos per voxel.
    func sample(on canvas: SyntheticCanvas) -> [Double] {
        let size = canvas.size
        var out = [Double](repeating: 0, count: size.reduce(1, *))
        for wave in waves {
            let step = wave.direction.x * canvas.affine[0, 0]
            let (cosStep, sinStep) = (cos(step), sin(step))
            var row = 0
            for k in 0..<size[2] {
                for j in 0..<size[1] {
                    let phase = (wave.direction * canvas.world(0, j, k)).sum() + wave.phase
                    var (c, s) = (cos(phase), sin(phase))
                    for i in 0..<size[0] {
                        out[row + i] += wave.weight * c
                        (c, s) = (c * cosStep - s * sinStep, s * cosStep + c * sinStep)
                    }
                    row += size[0]
                }
            }
        }
        return out
    }
}

extension SIMD3 where Scalar == Double {
    var length: Double { (self * self).sum().squareRoot() }
    var normalized: SIMD3<Double> { let l = length; return l > 1e-12 ? self / l : self }
    func dot(_ other: SIMD3<Double>) -> Double { (self * other).sum() }
    func cross(_ o: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x)
    }
}

/// Signed-distance helpers for synthetic shapes (approximate distances in mm, exact sign).
enum Shapes {
    /// An axis-aligned ellipsoid.
    static func ellipsoid(_ p: SIMD3<Double>, centre: SIMD3<Double>, semiAxes: SIMD3<Double>) -> Double {
        let q = (p - centre) / semiAxes
        return (q.length - 1) * semiAxes.min()
    }

    /// An ellipsoid with its own axes (`axes` = unit vectors, `semi` = semi-axis lengths).
    static func ellipsoid(_ p: SIMD3<Double>, centre: SIMD3<Double>, axes: [SIMD3<Double>], semi: SIMD3<Double>) -> Double {
        let d = p - centre
        let q = SIMD3(d.dot(axes[0]) / semi.x, d.dot(axes[1]) / semi.y, d.dot(axes[2]) / semi.z)
        return (q.length - 1) * semi.min()
    }

    /// A bounding box of an ellipsoid (loose).
    static func box(centre: SIMD3<Double>, radius: Double) -> (low: SIMD3<Double>, high: SIMD3<Double>) {
        (centre - radius, centre + radius)
    }
}
