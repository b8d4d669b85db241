import Foundation

/// A small SVG writer: shapes and text in user units, all text XML-escaped. `render(standalone:)`
/// gives a file (`<?xml …?>` and the SVG namespace) or an element for inline use in HTML5 (no
/// namespace URL, so the page holds no external reference at all).
public struct SVGWriter: Sendable {
    public enum Anchor: String, Sendable { case start, middle, end }

    public let width: Double
    public let height: Double
    private var elements: [String] = []
    private var title: String?

    public init(width: Double, height: Double, title: String? = nil) {
        self.width = width
        self.height = height
        self.title = title
    }

    static func n(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        var s = String(format: "%.2f", x)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    private static func attribute(_ name: String, _ value: String?) -> String {
        value.map { " \(name)=\"\(ReportEscape.html($0))\"" } ?? ""
    }

    public mutating func raw(_ element: String) { elements.append(element) }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                              width: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        elements.append("<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\""
            + Self.attribute("stroke", stroke) + " stroke-width=\"\(Self.n(width))\"" + Self.attribute("stroke-dasharray", dash)
            + Self.attribute("stroke-opacity", opacity.map(Self.n)) + "/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil) {
        elements.append("<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(w))\" height=\"\(Self.n(h))\""
            + Self.attribute("fill", fill) + Self.attribute("stroke", stroke) + "/>")
    }

    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        let list = points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\"" + Self.attribute("stroke", stroke)
            + " stroke-width=\"\(Self.n(width))\" stroke-linejoin=\"round\"" + Self.attribute("stroke-dasharray", dash) + "/>")
    }

    /// A marker centred at (x, y): shape index 0 circle, 1 square, 2 triangle, 3 diamond, 4 inverted
    /// triangle, 5 pentagon (cycling), filled with `fill`, white outline.
    public mutating func marker(_ shape: Int, _ x: Double, _ y: Double, size: Double = 5, fill: String) {
        let s = size
        let outline = " stroke=\"#ffffff\" stroke-width=\"1\""
        func polygon(_ points: [(Double, Double)]) -> String {
            "<polygon points=\"" + points.map { "\(Self.n(x + $0.0)),\(Self.n(y + $0.1))" }.joined(separator: " ") + "\""
                + Self.attribute("fill", fill) + outline + "/>"
        }
        switch shape % 6 {
        case 0: elements.append("<circle cx=\"\(Self.n(x))\" cy=\"\(Self.n(y))\" r=\"\(Self.n(s))\"" + Self.attribute("fill", fill) + outline + "/>")
        case 1: elements.append(polygon([(-s * 0.9, -s * 0.9), (s * 0.9, -s * 0.9), (s * 0.9, s * 0.9), (-s * 0.9, s * 0.9)]))
        case 2: elements.append(polygon([(0, -s * 1.2), (s * 1.1, s * 0.8), (-s * 1.1, s * 0.8)]))
        case 3: elements.append(polygon([(0, -s * 1.25), (s * 1.1, 0), (0, s * 1.25), (-s * 1.1, 0)]))
        case 4: elements.append(polygon([(0, s * 1.2), (s * 1.1, -s * 0.8), (-s * 1.1, -s * 0.8)]))
        default:
            elements.append(polygon((0..<5).map { k in
                let a = -Double.pi / 2 + Double(k) * 2 * .pi / 5
                return (s * 1.15 * cos(a), s * 1.15 * sin(a))
            }))
        }
    }

    public mutating func text(_ content: String, _ x: Double, _ y: Double, size: Double = 12, anchor: Anchor = .start,
                              weight: String? = nil, fill: String = "#222222", rotate: Double? = nil) {
        var attributes = "x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor.rawValue)\""
        attributes += Self.attribute("font-weight", weight) + Self.attribute("fill", fill)
        if let rotate { attributes += " transform=\"rotate(\(Self.n(rotate)) \(Self.n(x)) \(Self.n(y)))\"" }
        elements.append("<text \(attributes)>\(ReportEscape.html(content))</text>")
    }

    /// The document. `standalone`: an `.svg` file; otherwise an `<svg>` element for an HTML5 page.
    public func render(standalone: Bool) -> String {
        var out = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        out += "<svg"
        if standalone { out += " xmlns=\"http://www.w3.org/2000/svg\"" }
        out += " width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\""
        out += " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" role=\"img\">\n"
        if let title { out += "<title>\(ReportEscape.html(title))</title>\n" }
        out += "<rect x=\"0\" y=\"0\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" fill=\"#ffffff\"/>\n"
        for element in elements { out += element + "\n" }
        return out + "</svg>\n"
    }
}

/// Axis helpers.
enum PlotScale {
    /// "Nice" tick values (1, 2, 2.5, 5 × 10^k steps) covering [low, high] with about `target` ticks.
    static func niceTicks(_ low: Double, _ high: Double, target: Int = 6) -> (low: Double, high: Double, ticks: [Double], step: Double) {
        var low = low, high = high
        if !(high > low) { low -= 0.05; high += 0.05 }
        let raw = (high - low) / Double(max(target - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let start = floor(low / step + 1e-9) * step
        let end = ceil(high / step - 1e-9) * step
        var ticks: [Double] = []
        var t = start
        while t <= end + step * 1e-6 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return (start, end, ticks, step)
    }

    static func tickLabel(_ value: Double, step: Double) -> String {
        let exponent = Int(floor(log10(step) + 1e-9))
        let mantissa = step / pow(10, Double(exponent))
        let digits = max(0, min(6, -exponent + (abs(mantissa - 2.5) < 1e-6 ? 1 : 0)))
        return String(format: "%.\(digits)f", value)
    }

    /// Decades 10^k covering [low, high] (both > 0), at least one decade wide.
    static func decades(_ low: Double, _ high: Double) -> (low: Int, high: Int) {
        let a = Int(floor(log10(low) + 1e-9))
        var b = Int(ceil(log10(high) - 1e-9))
        if b <= a { b = a + 1 }
        return (a, b)
    }

    static func powerLabel(_ exponent: Int) -> String {
        switch exponent {
        case ..<0: return String(format: "%g", pow(10, Double(exponent)))
        case 0: return "1"
        case 1: return "10"
        case 2: return "100"
        case 3: return "1k"
        case 4: return "10k"
        case 5: return "100k"
        case 6: return "1M"
        case 7: return "10M"
        case 8: return "100M"
        case 9: return "1G"
        default: return "1e\(exponent)"
        }
    }
}

/// Colours (Okabe–Ito, yellow replaced by a darker gold, plus two greys), distinguishable for common
/// colour-vision deficiencies; markers differ by shape too, and lines after the eighth are dashed.
enum PlotPalette {
    static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#B8860B", "#56B4E9", "#000000", "#7F7F7F"]
    static func colour(_ i: Int) -> String { colours[i % colours.count] }
    static func dash(_ i: Int) -> String? { i < colours.count ? nil : ["6 3", "2 3", "8 3 2 3"][(i / colours.count - 1) % 3] }
}
