import Foundation
import Persistence

/// Part `index` of `count` (1-based) of a piece of work split for several machines: the episodes of
/// an evaluation, or the checkpoints of a model selection. Part i takes the i-th of `count` contiguous
/// blocks as equal as they can be.
public struct Shard: Codable, Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (1...count).contains(index) else { throw ShardError.invalid("\(index)/\(count)") }
        self.index = index
        self.count = count
    }

    /// "I/N", as `--shard` takes it.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { throw ShardError.invalid(text) }
        try self.init(index: index, count: count)
    }

    /// This part's block of `total` items.
    public func block(of total: Int) -> Range<Int> {
        (index - 1) * total / count ..< index * total / count
    }

    public var description: String { "\(index)/\(count)" }
}

public enum ShardError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    /// Parts that do not make one whole: `reason` says what is missing, repeated or different.
    case partsDoNotFit(reason: String)

    public var description: String {
        switch self {
        case let .invalid(text): "shard '\(text)' is not I/N with 1 <= I <= N"
        case let .partsDoNotFit(reason): "the parts do not make one whole: \(reason)"
        }
    }
}

/// What a part of a sharded piece of work records beside its results, so that parts can be checked
/// to make one whole before they are merged.
public struct PartOfWhole: Codable, Sendable, Equatable {
    public let shard: Shard
    /// The items of the whole: episodes 0..<n, or a run's checkpoint epochs.
    public let items: [Int]

    public init(shard: Shard, items: [Int]) {
        self.shard = shard
        self.items = items
    }

    /// This part's items.
    public var mine: ArraySlice<Int> { items[shard.block(of: items.count)] }
}

enum Merging {
    /// Checks that `parts` (each with its file, its part record and what must agree between parts)
    /// are parts 1...N of one whole, each once, and agree.
    static func requireWhole(_ parts: [(file: String, part: PartOfWhole?, agreement: [String: String])]) throws {
        guard let first = parts.first else { throw ShardError.partsDoNotFit(reason: "no parts given") }
        for part in parts where part.part == nil {
            throw ShardError.partsDoNotFit(reason: "\(part.file) is a whole report, not a part (no 'part' field)")
        }
        let count = first.part!.shard.count
        for part in parts {
            if part.part!.shard.count != count {
                throw ShardError.partsDoNotFit(reason: "\(first.file) is a part of \(count), \(part.file) of \(part.part!.shard.count)")
            }
            if part.part!.items != first.part!.items {
                throw ShardError.partsDoNotFit(reason: "\(part.file) splits other items than \(first.file)")
            }
            for (key, value) in part.agreement.sorted(by: { $0.key < $1.key }) where first.agreement[key] != value {
                throw ShardError.partsDoNotFit(
                    reason: "\(part.file) has \(key) \(value), \(first.file) has \(first.agreement[key] ?? "none")")
            }
        }
        var seen: [Int: String] = [:]
        for part in parts {
            let index = part.part!.shard.index
            if let other = seen[index] { throw ShardError.partsDoNotFit(reason: "part \(index)/\(count) twice: \(other) and \(part.file)") }
            seen[index] = part.file
        }
        let missing = (1...count).filter { seen[$0] == nil }
        if !missing.isEmpty {
            throw ShardError.partsDoNotFit(reason: "part\(missing.count == 1 ? "" : "s") "
                + missing.map { "\($0)/\(count)" }.joined(separator: ", ") + " missing")
        }
    }
}

/// A JSON file `rollout --json` wrote: an evaluation's report or a model selection's.
public enum ShardedReport {
    case evaluation(EvaluationReport)
    case selection(RunSelection)

    public static func read(_ path: String) throws -> ShardedReport {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ShardError.partsDoNotFit(reason: "cannot read \(path): \(error.localizedDescription)")
        }
        let fields = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        do {
            if fields?["checkpoints"] != nil { return .selection(try JSONDecoder().decode(RunSelection.self, from: data)) }
            return .evaluation(try JSONDecoder().decode(EvaluationReport.self, from: data))
        } catch {
            throw ShardError.partsDoNotFit(reason: "\(path) is not a report of rollout --json: \(plainDescription(of: error))")
        }
    }
}
