import Foundation
import TerminalProgress

extension TrainingProgress {
    /// "epoch 12/2000 · step 11234/2000000 · 58.0 steps/s · L_d 0.1230 · critic 1.230 · 9 h 32 min left",
    /// the rate over the `stepsThisRun` steps this process has taken in `elapsedSeconds`.
    public func line(stepsThisRun: Int, elapsedSeconds: Double) -> String {
        let rate = Double(stepsThisRun) / elapsedSeconds
        var parts = ["epoch \(epoch)/\(epochs)", "step \(step)/\(totalSteps)", ProgressFormat.rate(rate, unit: "steps")]
        if let lastEpoch {
            parts.append(String(format: "L_d %.4f", lastEpoch.bcLoss))
            parts.append(String(format: "critic %.3f", lastEpoch.criticLoss))
        }
        parts.append(ProgressFormat.timeLeft(remaining: Double(totalSteps - step), perSecond: rate))
        return parts.joined(separator: " · ")
    }
}

extension EpochMetrics {
    /// One plain line per saved epoch, for logs.
    public var logLine: String {
        String(format: "epoch %d (step %d): L_d %.4f, Q loss %.4f, critic loss %.4f, actor loss %.4f, actor lr %.2e",
               epoch, step, bcLoss, qLoss, criticLoss, actorLoss, actorLearningRate)
    }
}

extension EarlyStopping.Rise {
    /// "stopped early after epoch 350: the mean L_d of its block, 0.0532, rose above the previous block's, 0.0521"
    public var report: String {
        String(format: "stopped early after epoch %d: the mean L_d of its block, %.4f, rose above the previous block's, %.4f",
               epoch, meanBCLoss, previousMeanBCLoss)
    }
}
