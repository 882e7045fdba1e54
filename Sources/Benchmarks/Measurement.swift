import Evaluation
import TerminalProgress

/// Seconds taken by `body`, the best of `repeats` runs: the least disturbed by a noisy machine.
func bestSeconds(repeats: Int = 3, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try body()
        best = min(best, (ContinuousClock.now - start).inSeconds)
    }
    return best
}

/// The median seconds of `repeats` runs of `body`: for ceilings on a machine whose cores are
/// sometimes shared (a virtual machine's), where the best run overstates what work gets.
func medianSeconds(repeats: Int = 9, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try body()
        times.append((ContinuousClock.now - start).inSeconds)
    }
    return times.sorted()[repeats / 2]
}

func formatRate(_ perSecond: Double) -> String {
    perSecond >= 1e6 ? String(format: "%.2fM", perSecond / 1e6) : String(format: "%.1fk", perSecond / 1e3)
}
