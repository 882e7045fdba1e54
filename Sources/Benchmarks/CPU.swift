import Foundation

/// The CPU a report's figures were measured on: machines of one cloud kind differ from session to
/// session, and a ratio means little without the CPU beside it.
struct CPU: CustomStringConvertible {
    /// The model name the system gives, e.g. "AMD EPYC 7551 32-Core Processor".
    let name: String
    /// x86's family and model numbers (which tell a Zen 1 from a Zen 4 where the name is generic), or
    /// arm64's implementer and part.
    let identity: String?
    /// The cores this process may use.
    let cores: Int

    static let current = CPU()

    var description: String {
        "CPU \(name)" + (identity.map { " (\($0))" } ?? "") + ", \(cores) cores"
    }

    private init() {
        cores = ProcessInfo.processInfo.activeProcessorCount
        #if os(Linux)
        let fields = Self.firstProcessorsFields()
        if let family = fields["cpu family"], let model = fields["model"] {
            name = fields["model name"] ?? "x86-64"
            identity = "family \(family), model \(model)"
        } else {
            name = fields["model name"] ?? "arm64"
            identity = fields["CPU implementer"].map { "implementer \($0), part \(fields["CPU part"] ?? "?")" }
        }
        #else
        name = Self.sysctlString("machdep.cpu.brand_string") ?? "unknown"
        identity = nil
        #endif
    }

    #if os(Linux)
    /// The fields /proc/cpuinfo gives for its first processor.
    private static func firstProcessorsFields() -> [String: String] {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty, !fields.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return fields
    }
    #else
    private static func sysctlString(_ name: String) -> String? {
        var size = 0
        guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var bytes = [CChar](repeating: 0, count: size)
        guard sysctlbyname(name, &bytes, &size, nil, 0) == 0 else { return nil }
        return String(cString: bytes)
    }
    #endif
}
