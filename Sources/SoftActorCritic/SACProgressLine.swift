import Foundation
import TerminalProgress

extension SACProgress {
    /// "step 41234/1000000 · 180 steps/s · 96 episodes · last score 23.4 · 1 h 28 min left"
    public func line(stepsThisRun: Int, elapsedSeconds: Double) -> String {
        let rate = Double(stepsThisRun) / elapsedSeconds
        var parts = ["step \(step)/\(totalSteps)", ProgressFormat.rate(rate, unit: "steps"), "\(episodes) episodes"]
        if let latest { parts.append(String(format: "last score %.1f", latest.normalizedScore)) }
        if let mediumStep { parts.append("medium kept at \(mediumStep)") }
        parts.append(ProgressFormat.timeLeft(remaining: Double(totalSteps - step), perSecond: rate))
        return parts.joined(separator: " · ")
    }
}

extension SACEvaluation {
    /// One plain line per evaluation, for logs.
    public var logLine: String {
        String(format: "step %d: return %.1f, normalized score %.1f, alpha %.4f, critic loss %.3f, policy loss %.3f",
               step, meanReturn, normalizedScore, alpha, criticLoss, policyLoss)
    }
}
