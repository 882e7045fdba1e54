import Foundation

/// The names of the stored properties whose values differ between two settings of one type, for
/// errors that say which fields stop a run from resuming.
public func differingFields<Settings>(_ stored: Settings, _ requested: Settings) -> [String] {
    zip(Mirror(reflecting: stored).children, Mirror(reflecting: requested).children)
        .filter { "\($0.value)" != "\($1.value)" }
        .compactMap(\.0.label)
}

extension JSONEncoder {
    /// Pretty-printed with sorted keys, so that equal values always give the same bytes.
    public static func sorted() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
