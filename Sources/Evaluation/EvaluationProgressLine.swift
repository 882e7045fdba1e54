import TerminalProgress

extension EvaluationProgress {
    /// "3/10 episodes done · 7 running · 18.3k env-steps/s · ≤ 3 s left": at most that long, should
    /// every episode left last to the time limit.
    public func line(elapsedSeconds: Double) -> String {
        let rate = Double(environmentSteps) / elapsedSeconds
        return "\(finishedEpisodes)/\(episodes) episodes done · \(runningEpisodes) running · "
            + ProgressFormat.rate(rate, unit: "env-steps") + " · ≤ "
            + ProgressFormat.timeLeft(remaining: Double(remainingStepBound), perSecond: rate)
    }
}
