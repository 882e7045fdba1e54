import Foundation

/// The pieces of progress lines: rates and times left that read well at any magnitude.
public enum ProgressFormat {
    /// "0.42 steps/s", "8.50 steps/s", "850 steps/s", "18.3k steps/s", "21.0M steps/s"; "– steps/s"
    /// before there is a rate.
    public static func rate(_ perSecond: Double, unit: String) -> String {
        guard perSecond.isFinite, perSecond > 0 else { return "– \(unit)/s" }
        let (value, prefix) = perSecond < 10_000 ? (perSecond, "") : perSecond < 10_000_000 ? (perSecond / 1e3, "k") : (perSecond / 1e6, "M")
        let format = value < 10 ? "%.2f" : value < 100 ? "%.1f" : "%.0f"
        return String(format: format, value) + "\(prefix) \(unit)/s"
    }

    /// "45 s", "12 min", "3 h 05 min", rounded up; "–" when unknown.
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole) s" }
        let minutes = (whole + 59) / 60
        return minutes < 60 ? "\(minutes) min" : String(format: "%d h %02d min", minutes / 60, minutes % 60)
    }

    /// "12 min left" for `remaining` units of work at `perSecond`; "– left" before there is a rate.
    public static func timeLeft(remaining: Double, perSecond: Double) -> String {
        duration(seconds: perSecond.isFinite && perSecond > 0 ? remaining / perSecond : .infinity) + " left"
    }
}

extension Duration {
    /// The duration in seconds, for rates and time-left estimates.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
