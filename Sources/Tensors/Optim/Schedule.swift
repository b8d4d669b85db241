import Foundation

/// A learning-rate schedule is a pure function of progress, never a mutation of optimizer state,
/// so a resumed run computes the same rate as an uninterrupted one.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// base · (1 − t/T)^power, rounded to 8 decimals as the papers' `adjust_learning_rate` (set per epoch).
    case poly(power: Double)
    /// base · ½(1 + cos(π t/T)).
    case cosine

    /// The rate at `step` of `total` steps, after `warmup` linear warm-up steps.
    public func rate(base: Double, step: Int, total: Int, warmup: Int = 0) -> Double {
        if step < warmup { return base * Double(step + 1) / Double(warmup) }
        let progress = total > warmup ? Double(step - warmup) / Double(total - warmup) : 0
        switch self {
        case .constant: return base
        case .poly(let power):
            let value = base * pow(max(0, 1 - progress), power)
            return (value * 1e8).rounded() / 1e8
        case .cosine: return base * 0.5 * (1 + cos(.pi * progress))
        }
    }
}
