import TerminalProgress

extension EvaluationProgress {
    /// "step 412/1000 · 7/10 episodes running · 18.3k env-steps/s · ≤ 3 s left": at most that long,
    /// should every running episode last to the time limit.
    public func line(elapsedSeconds: Double) -> String {
        let rate = Double(environmentSteps) / elapsedSeconds
        return "step \(step)/\(maxSteps) · \(runningEpisodes)/\(episodes) episodes running · "
            + ProgressFormat.rate(rate, unit: "env-steps") + " · ≤ "
            + ProgressFormat.timeLeft(remaining: Double((maxSteps - step) * runningEpisodes), perSecond: rate)
    }
}
