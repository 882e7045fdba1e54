import Foundation

/// A single progress line on a terminal's stderr, redrawn in place and throttled; silent when stderr
/// is not a terminal or CI is set, so logs stay clean.
public final class ProgressLine {
    public let isEnabled: Bool
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now

    public init() {
        isEnabled = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil
    }

    /// Seconds since the line was created.
    public var elapsedSeconds: Double {
        (ContinuousClock.now - start).inSeconds
    }

    /// Redraws the line with `text` at most ten times a second, the first time after 100 ms so that
    /// rates are measured over something (always when `force`).
    public func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard isEnabled else { return }
        let now = ContinuousClock.now
        guard force || now - lastDraw >= .milliseconds(100) else { return }
        lastDraw = now
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(text())".utf8))
    }

    /// Clears the line, leaving the terminal as it was.
    public func finish() {
        guard isEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
