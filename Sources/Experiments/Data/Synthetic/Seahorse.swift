import Foundation

/// A curved, tapering tube with a bulbous head: the shape of a hippocampus (and, thinner and offset,
/// of the structures around it). The centreline runs from the head (t = 0: anterior, inferior,
/// lateral) to the tail (t = 1: posterior, superior, curling medially); the cross-section is an
/// ellipse, wider mediolaterally than tall.
struct Seahorse {
    /// Centreline samples from head to tail and their frames.
    var points: [SIMD3<Double>]
    var lateral: [SIMD3<Double>]
    var up: [SIMD3<Double>]
    /// Radius at each sample (mm); the ellipse's half-width is `radius · width`, half-height `radius · height`.
    var radius: [Double]
    var width: Double
    var height: Double

    /// - Parameters:
    ///   - centre: middle of the long axis (mm).
    ///   - side: +1 right, −1 left (RAS x).
    ///   - length: head-to-tail length (mm).
    ///   - pitch, yaw: tilt of the long axis (degrees): the head is lower by `pitch`, more lateral by `yaw`.
    ///   - bend: upward curl of the tail (mm); `curl`: medial curl of the tail (mm).
    ///   - radii: head, body and tail radius (mm).
    init(centre: SIMD3<Double>, side: Double, length: Double, pitch: Double, yaw: Double, bend: Double, curl: Double,
         radii: (head: Double, body: Double, tail: Double), width: Double = 1.2, height: Double = 0.8, samples: Int = 40) {
        let p = pitch * .pi / 180, y = yaw * .pi / 180
        // Unit vector from tail to head.
        let axis = SIMD3<Double>(side * sin(y) * cos(p), cos(y) * cos(p), -sin(p)).normalized
        let superior = SIMD3<Double>(0, 0, 1)
        let upVector = (superior - axis * superior.dot(axis)).normalized
        let outward = SIMD3<Double>(side, 0, 0)
        let lateralVector = (outward - axis * outward.dot(axis) - upVector * outward.dot(upVector)).normalized
        self.width = width
        self.height = height
        points = []
        lateral = []
        up = []
        radius = []
        for n in 0..<samples {
            let t = Double(n) / Double(samples - 1)
            let point = centre + axis * ((0.5 - t) * length) + upVector * (bend * t * t) - lateralVector * (curl * t * t * t)
            points.append(point)
            lateral.append(lateralVector)
            up.append(upVector)
            let body = radii.body + (radii.tail - radii.body) * Self.smoothstep(0.45, 1.0, t)
            let head = radii.head * exp(-pow((t - 0.14) / 0.16, 2))
            radius.append(max(body, head))
        }
    }

    /// A thinner tube following this one at an offset (in units of the local half-width and
    /// half-height, plus millimetres), over part of its length.
    func companion(lateralOffset: (scale: Double, mm: Double), upOffset: (scale: Double, mm: Double), radius r: Double,
                   from t0: Double, to t1: Double) -> Seahorse {
        var tube = self
        let range = Int(t0 * Double(points.count - 1))...Int(t1 * Double(points.count - 1))
        tube.points = range.map { n in
            points[n] + lateral[n] * (radius[n] * width * lateralOffset.scale + lateralOffset.mm)
                + up[n] * (radius[n] * height * upOffset.scale + upOffset.mm)
        }
        tube.lateral = range.map { lateral[$0] }
        tube.up = range.map { up[$0] }
        tube.radius = range.map { _ in r }
        tube.width = 1
        tube.height = 1
        return tube
    }

    static func smoothstep(_ a: Double, _ b: Double, _ x: Double) -> Double {
        let t = min(1, max(0, (x - a) / (b - a)))
        return t * t * (3 - 2 * t)
    }

    /// The canvas voxels close enough to the tube to be touched by it (its surface plus the canvas's
    /// soft edge), found sample by sample: far fewer than its bounding box holds.
    func voxels(on canvas: SyntheticCanvas) -> [Int] {
        let step = zip(points.dropFirst(), points).map { ($0 - $1).length }.max() ?? 0
        let reach = radius.map { $0 * max(width, height, 1) + canvas.edge + step / 2 + 0.5 }
        return canvas.voxels(near: points, reach: reach)
    }

    /// Approximate signed distance (mm, negative inside) of `p`: the nearest centreline segment gives
    /// the local radius and frame, the offset is measured in the elliptical cross-section.
    func distance(_ p: SIMD3<Double>) -> Double {
        var best = Double.infinity
        var bestIndex = 0
        var bestT = 0.0
        for n in 0..<(points.count - 1) {
            let a = points[n], segment = points[n + 1] - a
            let lengthSquared = segment.dot(segment)
            let t = lengthSquared > 0 ? min(1, max(0, (p - a).dot(segment) / lengthSquared)) : 0
            let d = (a + segment * t - p)
            let squared = d.dot(d)
            if squared < best {
                best = squared
                bestIndex = n
                bestT = t
            }
        }
        let n = bestIndex
        let q = points[n] + (points[n + 1] - points[n]) * bestT
        let r = radius[n] + (radius[n + 1] - radius[n]) * bestT
        let offset = p - q
        let a = r * width, b = r * height
        let tangent = (points[n + 1] - points[n]).normalized
        let u = offset.dot(lateral[n]) / a, v = offset.dot(up[n]) / b, w = offset.dot(tangent) / min(a, b)
        let rho = (u * u + v * v + w * w).squareRoot()
        return (rho - 1) * min(a, b)
    }
}
