/// What a command line shows of an online run while it trains: a progress line, and a log line per
/// evaluation. `SACRun` and `AntControllerRun` both are one.
public protocol OnlineRunDisplay: AnyObject {
    associatedtype Progress: OnlineProgressLine
    associatedtype Evaluation: EvaluationLogLine
    var step: Int { get }
    var evaluations: [Evaluation] { get }
    /// Trains until the run's end (or `untilStep`); false when `stopWhen` stopped it with its state saved.
    func train(untilStep: Int?, stopWhen: () -> Bool, progress: ((Progress) -> Void)?) throws -> Bool
}

public protocol OnlineProgressLine {
    var step: Int { get }
    /// The progress line, the rate over the `stepsThisRun` steps this process took in `elapsedSeconds`.
    func line(stepsThisRun: Int, elapsedSeconds: Double) -> String
}

public protocol EvaluationLogLine {
    /// One plain line per evaluation, for logs.
    var logLine: String { get }
}

extension SACRun: OnlineRunDisplay {}
extension SACProgress: OnlineProgressLine {}
extension SACEvaluation: EvaluationLogLine {}
extension AntControllerRun: OnlineRunDisplay {}
extension AntControllerProgress: OnlineProgressLine {}
extension ControllerEvaluation: EvaluationLogLine {}
