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

/// An error in plain words. A JSON decoding error says which field and what was wrong with it (not
/// Swift's dump of its context); other errors say what their description says.
public func plainDescription(of error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func field(_ path: [any CodingKey]) -> String {
        path.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }.joined(separator: ".")
    }
    switch error {
    case let .dataCorrupted(context):
        return context.codingPath.isEmpty ? "not valid JSON" : "field '\(field(context.codingPath))': \(context.debugDescription)"
    case let .keyNotFound(key, context):
        return "field '\(field(context.codingPath + [key]))' is missing"
    case let .typeMismatch(type, context):
        return "field '\(field(context.codingPath))' is not of type \(type)"
    case let .valueNotFound(type, context):
        return "field '\(field(context.codingPath))' is null, expected \(type)"
    @unknown default:
        return "\(error)"
    }
}
