import Foundation

/// The report's plots, drawn with `SVGWriter`:
/// - Dice vs training budget per data set: budgets at evenly spaced positions in ascending order,
///   `all` last (labelled with the pool size when the records know it); one line per method (and
///   backbone), mean Dice over the pooled case results, error bars = SD of the per-seed mean Dice
///   (SD over cases when a row has one seed); points of one budget are spread slightly sideways so
///   error bars do not hide each other.
/// - Dice vs trainable parameters per data set, at its largest budget: log-scaled x, one labelled
///   point per method (and backbone), the same error bars.
extension Report {
    static let plotWidth = 640.0
    static let plotHeight = 420.0

    /// Mean Dice vs training budget for one data set; nil when it has no finished row.
    public func budgetPlot(dataset: String) -> SVGWriter? {
        let data = budgetSeries(dataset: dataset)
        let series = data.series
        guard series.contains(where: { !$0.points.isEmpty }), !data.budgets.isEmpty else { return nil }
        var svg = SVGWriter(width: Self.plotWidth, height: Self.plotHeight, title: "Dice vs training budget, \(dataset)")
        let left = 72.0, right = Self.plotWidth - 190, top = 56.0, bottom = Self.plotHeight - 62

        svg.text("Dice vs training budget — \(dataset)", 16, 24, size: 16, weight: "bold")
        svg.text(errorBarText(dataset: dataset), 16, 42, size: 11.5, fill: "#555555")

        // y: mean ± error over all points, clamped to [0, 1].
        let lows = series.flatMap { $0.points.map { $0.y - ($0.error ?? 0) } }
        let highs = series.flatMap { $0.points.map { $0.y + ($0.error ?? 0) } }
        let span = max((highs.max()! - lows.min()!), 0.02)
        let scale = PlotScale.niceTicks(max(0, lows.min()! - 0.05 * span), min(1, highs.max()! + 0.05 * span), target: 6)
        func py(_ y: Double) -> Double { bottom - (y - scale.low) / (scale.high - scale.low) * (bottom - top) }
        let slot = (right - left) / Double(data.budgets.count)
        func px(_ x: Double) -> Double { left + (x + 0.5) * slot }

        axes(&svg, left: left, right: right, top: top, bottom: bottom)
        for tick in scale.ticks {
            svg.line(left, py(tick), right, py(tick), stroke: "#e3e3e3")
            svg.text(PlotScale.tickLabel(tick, step: scale.step), left - 8, py(tick) + 4, size: 12, anchor: .end)
        }
        for (i, budget) in data.budgets.enumerated() {
            svg.line(px(Double(i)), bottom, px(Double(i)), bottom + 5, stroke: "#444444")
            let label = budget == "all" ? "all" + (data.poolSize.map { " (\($0))" } ?? "") : budget
            svg.text(label, px(Double(i)), bottom + 20, size: 12, anchor: .middle)
        }
        svg.text("training cases (budget)", (left + right) / 2, bottom + 44, size: 13, anchor: .middle)
        svg.text("Dice (mean ± SD)", 20, (top + bottom) / 2, size: 13, anchor: .middle, rotate: -90)

        let dodgeStep = min(7, slot * 0.5 / Double(max(series.count, 1)))
        for (j, line) in series.enumerated() {
            let colour = PlotPalette.colour(j)
            let offset = (Double(j) - Double(series.count - 1) / 2) * dodgeStep
            let points = line.points.sorted { $0.x < $1.x }
            var run: [(Double, Double)] = []
            var previousX: Double?
            for point in points {
                if let previousX, point.x != previousX + 1 {
                    if run.count > 1 { svg.polyline(run, stroke: colour, dash: PlotPalette.dash(j)) }
                    run = []
                }
                run.append((px(point.x) + offset, py(point.y)))
                previousX = point.x
            }
            if run.count > 1 { svg.polyline(run, stroke: colour, dash: PlotPalette.dash(j)) }
            for point in points {
                let x = px(point.x) + offset
                if let e = point.error, e > 0 {
                    let y1 = py(max(scale.low, point.y - e)), y2 = py(min(scale.high, point.y + e))
                    svg.line(x, y1, x, y2, stroke: colour, width: 1.5)
                    svg.line(x - 4, y1, x + 4, y1, stroke: colour, width: 1.5)
                    svg.line(x - 4, y2, x + 4, y2, stroke: colour, width: 1.5)
                }
                svg.marker(j, x, py(point.y), fill: colour)
            }
        }

        // Legend.
        let legendX = right + 18
        svg.text("method", legendX, top + 4, size: 12, weight: "bold")
        for (j, line) in series.enumerated() {
            let y = top + 24 + Double(j) * 22
            let colour = PlotPalette.colour(j)
            svg.line(legendX, y, legendX + 28, y, stroke: colour, width: 2, dash: PlotPalette.dash(j))
            svg.marker(j, legendX + 14, y, fill: colour)
            let label = Self.shorten(line.label, 18) + (line.points.isEmpty ? " (failed)" : "")
            svg.text(label, legendX + 36, y + 4, size: 12)
        }
        return svg
    }

    /// Mean Dice vs trainable parameters (log x) for one data set at its largest budget.
    public func parameterPlot(dataset: String) -> SVGWriter? {
        guard let data = parameterPoints(dataset: dataset), !data.points.isEmpty else { return nil }
        let budgetText = ReportHeading.budget(data.budget, pool: tables(of: dataset).last?.rows.compactMap(\.trainingCases).max())
        var svg = SVGWriter(width: Self.plotWidth, height: Self.plotHeight, title: "Dice vs trainable parameters, \(dataset)")
        let left = 72.0, right = Self.plotWidth - 40, top = 56.0, bottom = Self.plotHeight - 62
        svg.text("Dice vs trainable parameters — \(dataset)", 16, 24, size: 16, weight: "bold")
        svg.text("\(budgetText); log scale; error bars as in the budget plot", 16, 42, size: 11.5, fill: "#555555")

        let counts = data.points.map { Double($0.parameters) }
        let decades = PlotScale.decades(counts.min()! / 1.5, counts.max()! * 1.5)
        func px(_ n: Double) -> Double {
            left + (log10(n) - Double(decades.low)) / Double(decades.high - decades.low) * (right - left)
        }
        let lows = data.points.map { $0.dice - ($0.error ?? 0) }, highs = data.points.map { $0.dice + ($0.error ?? 0) }
        let span = max(highs.max()! - lows.min()!, 0.02)
        let scale = PlotScale.niceTicks(max(0, lows.min()! - 0.08 * span), min(1, highs.max()! + 0.08 * span), target: 6)
        func py(_ y: Double) -> Double { bottom - (y - scale.low) / (scale.high - scale.low) * (bottom - top) }

        axes(&svg, left: left, right: right, top: top, bottom: bottom)
        for tick in scale.ticks {
            svg.line(left, py(tick), right, py(tick), stroke: "#e3e3e3")
            svg.text(PlotScale.tickLabel(tick, step: scale.step), left - 8, py(tick) + 4, size: 12, anchor: .end)
        }
        for exponent in decades.low...decades.high {
            let x = px(pow(10, Double(exponent)))
            svg.line(x, top, x, bottom, stroke: "#e3e3e3")
            svg.line(x, bottom, x, bottom + 6, stroke: "#444444")
            svg.text(PlotScale.powerLabel(exponent), x, bottom + 20, size: 12, anchor: .middle)
            if exponent < decades.high {
                for k in 2...9 {
                    let minor = px(Double(k) * pow(10, Double(exponent)))
                    svg.line(minor, bottom, minor, bottom + 3, stroke: "#888888")
                }
            }
        }
        svg.text("trainable parameters (log scale)", (left + right) / 2, bottom + 44, size: 13, anchor: .middle)
        svg.text("Dice (mean ± SD)", 20, (top + bottom) / 2, size: 13, anchor: .middle, rotate: -90)

        // Colours follow the budget plot's series order.
        let seriesLabels = budgetSeries(dataset: dataset).series.map(\.label)
        var placed: [(x0: Double, x1: Double, y: Double)] = []
        let indexed = data.points.enumerated().sorted { $0.element.dice > $1.element.dice }
        for (i, point) in indexed {
            let j = seriesLabels.firstIndex(of: point.label) ?? i
            let colour = PlotPalette.colour(j)
            let x = px(Double(point.parameters)), y = py(point.dice)
            if let e = point.error, e > 0 {
                let y1 = py(max(scale.low, point.dice - e)), y2 = py(min(scale.high, point.dice + e))
                svg.line(x, y1, x, y2, stroke: colour, width: 1.5)
                svg.line(x - 4, y1, x + 4, y1, stroke: colour, width: 1.5)
                svg.line(x - 4, y2, x + 4, y2, stroke: colour, width: 1.5)
            }
            svg.marker(j, x, y, size: 6, fill: colour)
            // Label beside the point, moved down until it overlaps no earlier label.
            let text = Self.shorten(point.label, 24)
            let width = Double(text.count) * 7
            let toLeft = x + 10 + width > right
            let x0 = toLeft ? x - 10 - width : x + 10, x1 = x0 + width
            var ly = y + 4
            while placed.contains(where: { $0.x0 < x1 && x0 < $0.x1 && abs($0.y - ly) < 14 }) { ly += 14 }
            placed.append((x0, x1, ly))
            svg.text(text, toLeft ? x - 10 : x + 10, ly, size: 12, anchor: toLeft ? .end : .start, fill: colour)
        }
        return svg
    }

    private func axes(_ svg: inout SVGWriter, left: Double, right: Double, top: Double, bottom: Double) {
        svg.rect(left, top, right - left, bottom - top, fill: "#fbfbfb", stroke: "#bbbbbb")
        svg.line(left, bottom, right, bottom, stroke: "#444444", width: 1.2)
        svg.line(left, top, left, bottom, stroke: "#444444", width: 1.2)
    }

    private func errorBarText(dataset: String) -> String {
        let seedCounts = tables(of: dataset).flatMap(\.rows).filter { !$0.failed }.map(\.seeds.count)
        if seedCounts.allSatisfy({ $0 > 1 }) { return "error bars: SD of the per-seed mean Dice" }
        if seedCounts.allSatisfy({ $0 == 1 }) { return "error bars: SD over test cases (one seed)" }
        return "error bars: SD of the per-seed mean Dice (SD over test cases where one seed finished)"
    }

    static func shorten(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
