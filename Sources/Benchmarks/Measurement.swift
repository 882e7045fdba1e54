import Evaluation
import Foundation
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

/// Waits, at most a second, until this process uses next to no CPU while it sleeps. OpenBLAS's
/// threads spin after each product for its THREAD_TIMEOUT (about a tenth of a second by default),
/// calling sched_yield: on two cores they took a share of the next measurement's (a training step
/// 5% slower, the dense products' ceiling up to half).
func awaitIdleProcess() {
    func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
    let interval = 0.02
    for _ in 0..<50 {
        let before = processCPUSeconds()
        Thread.sleep(forTimeInterval: interval)
        if processCPUSeconds() - before < interval / 10 { return }
    }
}

func formatRate(_ perSecond: Double) -> String {
    perSecond >= 1e6 ? String(format: "%.2fM", perSecond / 1e6) : String(format: "%.1fk", perSecond / 1e3)
}
