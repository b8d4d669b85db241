import Foundation
import Volumes

/// Left and right hippocampal volumes (mm³) measured on one label map.
public struct HippocampalVolumes: Sendable, Equatable, Codable {
    /// The subject's left hippocampus (mm³).
    public var left: Double
    /// The subject's right hippocampus (mm³).
    public var right: Double
    /// Foreground volume assigned to neither side (mm³): components beyond the two largest with
    /// `HemisphereSplit.largestComponents`, labels other than the two with `.labels`; 0 otherwise.
    public var unassigned: Double
    /// Something a reader should know (e.g. only one component was found); nil when all went as planned.
    public var note: String?

    public init(left: Double, right: Double, unassigned: Double = 0, note: String? = nil) {
        self.left = left
        self.right = right
        self.unassigned = unassigned
        self.note = note
    }

    public var total: Double { left + right }
}

/// How a hippocampus label map is split into the subject's left and right hippocampus.
///
/// World coordinates are NIfTI's: the voxel-to-world affine (sform, else qform) maps into RAS+ space,
/// where **+x points to the subject's Right** (nifti1.h: "+x = Right +y = Anterior +z = Superior";
/// nibabel's RAS+). So a voxel whose world x is *below* the midline lies in the subject's **left**
/// hemisphere, whatever the voxel order of the file (RAS, LAS, LPS, …). (ANALYZE 7.5 used +x = Left;
/// a NIfTI affine never does.)
public enum HemisphereSplit: Sendable, Equatable, Codable {
    /// By the sign of world x relative to a midline: x < midline → left, x > midline → right (a voxel
    /// centre exactly on the midline counts half to each side).
    case worldMidline(Midline)
    /// The two largest connected components of the foreground; the one whose centroid has the larger
    /// world x is the right hippocampus. Smaller components are reported as `unassigned`. With a single
    /// component, it goes to the side of its centroid (relative to the field-of-view centre) and the
    /// other side is 0, with a note.
    case largestComponents(connectivity: ComponentConnectivity)
    /// The label map already separates the sides (e.g. `split_sides`: 1 = left, 2 = right).
    case labels(left: Int, right: Int)

    public static let `default` = HemisphereSplit.worldMidline(.fieldOfViewCentre)

    public var description: String {
        switch self {
        case .worldMidline(let midline): "world x against the midline (\(midline.description))"
        case .largestComponents(let connectivity): "two largest \(connectivity.rawValue)-connected components"
        case .labels(let left, let right): "labels (left = \(left), right = \(right))"
        }
    }
}

public enum ComponentConnectivity: String, NamedChoice, Sendable, Equatable {
    case six = "6", twentySix = "26"

    var voxelConnectivity: VoxelConnectivity { self == .six ? .six : .twentySix }
}

/// Where the brain's midline lies in world x (mm).
public enum Midline: Sendable, Equatable, Codable {
    /// World x of the centre of the image's field of view (the synthetic data: the midline; images
    /// cropped or centred on the brain: approximately).
    case fieldOfViewCentre
    /// World x of the centroid of the foreground voxels (both hippocampi present and of similar size).
    case foregroundCentroid
    /// A fixed world x in mm: 0 for images registered to MNI or Talairach space.
    case x(Double)

    public var description: String {
        switch self {
        case .fieldOfViewCentre: "centre of the field of view"
        case .foregroundCentroid: "centroid of the foreground"
        case .x(let value): "x = \(value) mm"
        }
    }
}

/// Hippocampal volumetry on label maps: mm³ per side.
public enum Volumetry {
    /// Volumes of the foreground (`label > 0`, or the two labels of `.labels`) of a 3-D label map,
    /// split as `split` says. Voxel volume and world coordinates come from the volume's geometry
    /// (spatial units converted to mm).
    public static func measure(_ labelMap: Volume, split: HemisphereSplit = .default) throws -> HippocampalVolumes {
        guard labelMap.timepoints == 1 else {
            throw VolumetryError.invalidLabelMap("\(labelMap.name) is 4-D; volumetry needs a 3-D label map")
        }
        let unit = labelMap.geometry.millimetresPerUnit
        let affine = labelMap.affine
        let shape = labelMap.spatialShape
        let voxelVolume = labelMap.voxelVolumeMM3
        let voxels = labelMap.voxels
        /// World x (mm) of voxel (i, j, k).
        func worldX(_ i: Double, _ j: Double, _ k: Double) -> Double {
            (affine[0, 0] * i + affine[0, 1] * j + affine[0, 2] * k + affine[0, 3]) * unit
        }
        let (ni, nj, nk) = (shape[0], shape[1], shape[2])
        let centreX = worldX(Double(ni - 1) / 2, Double(nj - 1) / 2, Double(nk - 1) / 2)

        switch split {
        case .labels(let leftLabel, let rightLabel):
            var left = 0, right = 0, other = 0
            for v in voxels where v != 0 {
                let value = Int(v.rounded())
                if value == leftLabel { left += 1 } else if value == rightLabel { right += 1 } else { other += 1 }
            }
            return HippocampalVolumes(left: Double(left) * voxelVolume, right: Double(right) * voxelVolume,
                                      unassigned: Double(other) * voxelVolume)

        case .worldMidline(let midline):
            var sumX = 0.0, count = 0
            var xs: [Double] = []
            xs.reserveCapacity(4096)
            var n = 0
            for k in 0..<nk {
                for j in 0..<nj {
                    for i in 0..<ni {
                        if voxels[n] > 0 {
                            let x = worldX(Double(i), Double(j), Double(k))
                            xs.append(x)
                            sumX += x
                            count += 1
                        }
                        n += 1
                    }
                }
            }
            let line: Double
            switch midline {
            case .fieldOfViewCentre: line = centreX
            case .foregroundCentroid: line = count > 0 ? sumX / Double(count) : centreX
            case .x(let value): line = value
            }
            // Rounding: a voxel centre within 1e-6 mm of the midline counts half to each side.
            var left = 0.0, right = 0.0
            for x in xs {
                if abs(x - line) <= 1e-6 { left += 0.5; right += 0.5 } else if x < line { left += 1 } else { right += 1 }
            }
            return HippocampalVolumes(left: left * voxelVolume, right: right * voxelVolume)

        case .largestComponents(let connectivity):
            guard let grid = Grid3D(shape: shape) else {
                throw VolumetryError.invalidLabelMap("\(labelMap.name): shape \(shape) is not a 3-D grid")
            }
            let components = MaskMorphology.connectedComponents(voxels.map { $0 > 0 }, grid: grid,
                                                                connectivity: connectivity.voxelConnectivity)
            guard components.count > 0 else { return HippocampalVolumes(left: 0, right: 0, note: "empty label map") }
            // The two largest, ties broken by component number (memory order of the first voxel).
            let ranked = (0..<components.count).sorted {
                components.sizes[$0] != components.sizes[$1] ? components.sizes[$0] > components.sizes[$1] : $0 < $1
            }
            let chosen = Array(ranked.prefix(2))
            var sums = [Double](repeating: 0, count: components.count)
            var n = 0
            for k in 0..<nk {
                for j in 0..<nj {
                    for i in 0..<ni {
                        let c = Int(components.labels[n])
                        if c > 0 { sums[c - 1] += worldX(Double(i), Double(j), Double(k)) }
                        n += 1
                    }
                }
            }
            let centroid = { (c: Int) in sums[c] / Double(components.sizes[c]) }
            let total = components.sizes.reduce(0, +)
            let kept = chosen.map { components.sizes[$0] }.reduce(0, +)
            let unassigned = Double(total - kept) * voxelVolume
            if chosen.count == 1 {
                let c = chosen[0], volume = Double(components.sizes[c]) * voxelVolume
                let isRight = centroid(c) > centreX
                return HippocampalVolumes(left: isRight ? 0 : volume, right: isRight ? volume : 0, unassigned: unassigned,
                                          note: "one component only; assigned to the \(isRight ? "right" : "left") side by its centroid")
            }
            let (a, b) = (chosen[0], chosen[1])
            let (rightComponent, leftComponent) = centroid(a) > centroid(b) ? (a, b) : (b, a)
            return HippocampalVolumes(left: Double(components.sizes[leftComponent]) * voxelVolume,
                                      right: Double(components.sizes[rightComponent]) * voxelVolume,
                                      unassigned: unassigned,
                                      note: unassigned > 0 ? "\(components.count - 2) smaller component(s) left out" : nil)
        }
    }
}

/// A label map that volumetry cannot measure (4-D, or not a 3-D grid), named.
public enum VolumetryError: Error, CustomStringConvertible, Equatable {
    case invalidLabelMap(String)

    public var description: String {
        switch self {
        case .invalidLabelMap(let message): "volumetry: \(message)"
        }
    }
}
