import Foundation

/// Live progress on stderr: cells done/total with an ETA, and the current cell's epoch, loss and
/// validation Dice. On a terminal the line is rewritten in place; in a log, a line per epoch.
public final class ProgressPrinter: @unchecked Sendable {
    // Unchecked: used from the one task that runs the sweep.
    private var total = 0, done = 0
    private var cellStarted = Date(), sweepStarted = Date()
    private var cellSeconds: [Double] = []
    private var current = ""
    private var lastEpochPrinted = -1
    private let interactive = isatty(STDERR_FILENO) != 0
    private let enabled: Bool

    public init(enabled: Bool = true) { self.enabled = enabled }

    private func emit(_ text: String, rewrite: Bool = false) {
        guard enabled else { return }
        let line = rewrite && interactive ? "\r\u{1B}[2K" + text : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    public func note(_ text: String) { emit((interactive ? "\r\u{1B}[2K" : "") + text) }

    func startSweep(total: Int, done: Int) {
        (self.total, self.done) = (total, done)
        sweepStarted = Date()
        if done > 0 { emit("\(done) of \(total) cells already done; running the other \(total - done)") }
    }

    func startStage(_ title: String) {
        current = title
        cellStarted = Date()
        lastEpochPrinted = -1
        emit("▶ \(title)")
    }

    func finishStage() { emit((interactive ? "\r\u{1B}[2K" : "") + "✓ \(current) (\(duration(Date().timeIntervalSince(cellStarted))))") }

    func startCell(_ cell: Cell) {
        startStage("[\(done + 1)/\(total)] \(cell.title)")
    }

    func training(_ p: TrainingProgress) {
        let dice = p.lastValidationDice.map { String(format: " · val Dice %.3f", $0) } ?? ""
        let text = "  epoch \(p.epoch + 1)/\(p.epochs) step \(p.step + 1)/\(p.stepsPerEpoch) · loss \(String(format: "%.4f", p.loss))"
            + dice + " · cell ETA \(duration(p.remainingSeconds))" + sweepETA(cellRemaining: p.remainingSeconds)
        if interactive {
            emit(text, rewrite: true)
        } else if p.step + 1 == p.stepsPerEpoch && p.epoch != lastEpochPrinted {
            lastEpochPrinted = p.epoch
            emit(text)
        }
    }

    func finishCell(_ record: CellRecord) {
        let seconds = Date().timeIntervalSince(cellStarted)
        cellSeconds.append(seconds)
        done += 1
        let outcome = record.status == .done
            ? (record.mean(.dice).map { String(format: "Dice %.3f", $0) } ?? "done")
            : "FAILED: \(record.failure ?? "unknown")"
        emit((interactive ? "\r\u{1B}[2K" : "") + "\(record.status == .done ? "✓" : "✗") \(current) — \(outcome) (\(duration(seconds)))")
    }

    func finishSweep() {
        if total > 0 { emit("sweep: \(done)/\(total) cells in \(duration(Date().timeIntervalSince(sweepStarted)))") }
    }

    private func sweepETA(cellRemaining: Double) -> String {
        let remainingCells = total - done - 1
        guard remainingCells > 0 else { return "" }
        let perCell = cellSeconds.isEmpty ? Date().timeIntervalSince(cellStarted) + cellRemaining
                                          : cellSeconds.reduce(0, +) / Double(cellSeconds.count)
        return " · sweep ETA \(duration(cellRemaining + perCell * Double(remainingCells)))"
    }
}

func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
}
