/// The check `data check`, `plan`, `run`, `run-cell` and `slurm` make before any work starts: every training
/// budget a cell asks of a data set fits that data set's training pool, and (with `drop_last`) fills
/// at least one batch. Without it a sweep of the paper specs would fail its large-budget cells only
/// after days of the others.
public enum BudgetCheck {
    /// One line per (data set, budget) that cannot run, in cell order. `pool` gives a data set's
    /// training-pool size, or nil when it cannot be opened (those cells fail on their own, with the reason).
    public static func problems(cells: [Cell], training: TrainingSettings, pool: (DatasetSpec) -> Int?) -> [String] {
        var seen = Set<String>(), lines: [String] = []
        for cell in cells where seen.insert(cell.dataset.name + "\u{1F}" + cell.budget.label).inserted {
            guard let available = pool(cell.dataset) else { continue }
            let cases: Int
            switch cell.budget {
            case .count(let n) where n > available:
                lines.append(DataError.budgetTooLarge(dataset: cell.dataset.name, budget: n, pool: available).description
                             + " (or give the data set its own `budgets:`)")
                continue
            case .count(let n): cases = n
            case .all: cases = available
            }
            if training.stepsPerEpoch(cases: cases) == 0 {
                lines.append(DataError.invalidSpec(
                    dataset: cell.dataset.name, field: "budget \(cell.budget.label)",
                    reason: "\(cases) training case(s) fill no batch of training.batch_size \(training.batchSize) with "
                        + "drop_last: true; use a larger budget, a smaller batch_size, or drop_last: false").description)
            }
        }
        return lines
    }

    /// Throws `BudgetError` listing every problem; `open` opens a data set (scan and split, no voxels).
    public static func verify(cells: [Cell], training: TrainingSettings, open: (DatasetSpec) throws -> Dataset) throws {
        let lines = problems(cells: cells, training: training) { (try? open($0))?.splits.trainingPool.count }
        if !lines.isEmpty { throw BudgetError(lines: lines) }
    }
}

/// Budgets that a data set cannot give; one line each.
public struct BudgetError: Error, CustomStringConvertible {
    public var lines: [String]
    public var description: String { lines.joined(separator: "\n") }
}
