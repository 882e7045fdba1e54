import Datasets
import DiffusionQL
import Foundation

extension TrainingProgress {
    /// "epoch 12/2000 · step 11234/2000000 · 58 steps/s · L_d 0.123 · critic 1.23 · 9 h 32 min left",
    /// the rate over the `stepsThisRun` steps this process has taken in `elapsedSeconds`.
    public func line(stepsThisRun: Int, elapsedSeconds: Double) -> String {
        let rate = Double(stepsThisRun) / max(elapsedSeconds, 1e-9)
        var parts = ["epoch \(epoch)/\(epochs)", "step \(step)/\(totalSteps)", String(format: "%.0f steps/s", rate)]
        if let lastEpoch {
            parts.append(String(format: "L_d %.4f", lastEpoch.bcLoss))
            parts.append(String(format: "critic %.3f", lastEpoch.criticLoss))
        }
        parts.append(Self.duration(Double(totalSteps - step) / max(rate, 1e-9)) + " left")
        return parts.joined(separator: " · ")
    }

    static func duration(_ seconds: Double) -> String {
        let minutes = Int((seconds / 60).rounded(.up))
        return minutes < 60 ? "\(minutes) min" : "\(minutes / 60) h \(minutes % 60) min"
    }
}

extension EpochMetrics {
    /// One plain line per saved epoch, for logs.
    public var logLine: String {
        String(format: "epoch %d (step %d): L_d %.4f, Q loss %.4f, critic loss %.4f, actor loss %.4f, actor lr %.2e",
               epoch, step, bcLoss, qLoss, criticLoss, actorLoss, actorLearningRate)
    }
}

extension SACProgress {
    /// "step 41234/1000000 · 180 steps/s · 96 episodes · last score 23.4 · 1 h 28 min left"
    public func line(stepsThisRun: Int, elapsedSeconds: Double) -> String {
        let rate = Double(stepsThisRun) / max(elapsedSeconds, 1e-9)
        var parts = ["step \(step)/\(totalSteps)", String(format: "%.0f steps/s", rate), "\(episodes) episodes"]
        if let latest { parts.append(String(format: "last score %.1f", latest.normalizedScore)) }
        if let mediumStep { parts.append("medium kept at \(mediumStep)") }
        parts.append(TrainingProgress.duration(Double(totalSteps - step) / max(rate, 1e-9)) + " left")
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
