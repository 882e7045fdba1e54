import Foundation
import Testing

/// Finds the project's shared facts (`../shared` beside the checkout, or DIFFUSION_QL_SHARED).
enum SharedFixtures {
    static func file(_ relativePath: String) throws -> URL {
        let root = ProcessInfo.processInfo.environment["DIFFUSION_QL_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared")
        let url = root.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FixtureMissing(path: url.path)
        }
        return url
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "shared fixture not found: \(path) (set DIFFUSION_QL_SHARED)" }
    }
}
