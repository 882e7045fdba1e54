import Foundation
import Testing

/// Damaged checkpoints met by `rollout`: each is refused, with a non-zero exit and a message naming
/// the file (and the tensor at fault, where one is), before any episode runs or any report is written.
@Suite struct BadCheckpointTests {
    /// run7's first checkpoint taken apart: the 8-byte header length, the header's JSON, the data.
    struct Checkpoint {
        var header: [String: Any]
        var data: Data

        static let source = "checkpoints/run7/epoch_0050.safetensors"

        init() throws {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.source))
            let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8 ..< 8 + length)) as! [String: Any]
            data = bytes.subdata(in: 8 + length ..< bytes.count)
        }

        /// The file's bytes, the header padded with spaces to a multiple of 8 as the format allows.
        func bytes() throws -> Data {
            var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
            json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
            var length = UInt64(json.count)
            return Data(bytes: &length, count: 8) + json + data
        }

        func entry(_ name: String) -> [String: Any] { header[name] as! [String: Any] }

        /// The byte range of tensor `name` in `data`.
        func range(_ name: String) -> Range<Int> {
            let offsets = entry(name)["data_offsets"] as! [Int]
            return offsets[0] ..< offsets[1]
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// What the message must name beside the file.
        let expected: [String]
        let damage: @Sendable (inout Checkpoint) throws -> Data
        var testDescription: String { name }
    }

    static let prefixes = ["actor", "ema_actor", "critic", "critic_target"]

    static let cases: [Case] = {
        var cases: [Case] = []
        for cut in [0, 5, 8, 100, 7_288, 7_289, 1_000_000, 3_309_327] {
            cases.append(Case(name: "cut at byte \(cut)", expected: []) { checkpoint in try checkpoint.bytes().prefix(cut) })
        }
        for length in [UInt64(0), 3, 1 << 40, UInt64.max] {
            cases.append(Case(name: "header length \(length)", expected: []) { checkpoint in
                var bytes = try checkpoint.bytes(), value = length
                bytes.replaceSubrange(0..<8, with: Data(bytes: &value, count: 8))
                return bytes
            })
        }
        for text in ["not json", "[1, 2]", "{\"x\": ", "{\"actor.betas\": {\"dtype\": \"F32\"}}"] {
            cases.append(Case(name: "header \(text)", expected: []) { checkpoint in
                var json = Data(text.utf8)
                json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
                var length = UInt64(json.count)
                return Data(bytes: &length, count: 8) + json + checkpoint.data
            })
        }
        for prefix in prefixes {
            let weight = prefix.hasPrefix("critic") ? "\(prefix).q1_model.0.weight" : "\(prefix).model.mid_layer.0.weight"
            let bias = prefix.hasPrefix("critic") ? "\(prefix).q2_model.6.bias" : "\(prefix).model.final_layer.bias"
            cases.append(Case(name: "NaN in \(weight)", expected: [weight]) { checkpoint in
                let start = checkpoint.range(weight).lowerBound + 4 * 17
                checkpoint.data.replaceSubrange(start ..< start + 4, with: [0x00, 0x00, 0xC0, 0x7F])
                return try checkpoint.bytes()
            })
            cases.append(Case(name: "infinity in \(bias)", expected: [bias]) { checkpoint in
                let start = checkpoint.range(bias).lowerBound
                checkpoint.data.replaceSubrange(start ..< start + 4, with: [0x00, 0x00, 0x80, 0x7F])
                return try checkpoint.bytes()
            })
            cases.append(Case(name: "\(weight) as I32", expected: [weight]) { checkpoint in
                var entry = checkpoint.entry(weight)
                entry["dtype"] = "I32"
                checkpoint.header[weight] = entry
                return try checkpoint.bytes()
            })
            cases.append(Case(name: "\(weight) transposed", expected: [weight]) { checkpoint in
                var entry = checkpoint.entry(weight)
                entry["shape"] = Array((entry["shape"] as! [Int]).reversed())
                checkpoint.header[weight] = entry
                return try checkpoint.bytes()
            })
            cases.append(Case(name: "\(bias) missing", expected: [bias]) { checkpoint in
                checkpoint.header[bias + "_renamed"] = checkpoint.header.removeValue(forKey: bias)
                return try checkpoint.bytes()
            })
        }
        cases += [
            Case(name: "offsets past the end", expected: ["critic.q1_model.6.bias"]) { checkpoint in
                var entry = checkpoint.entry("critic.q1_model.6.bias")
                entry["data_offsets"] = [checkpoint.data.count, checkpoint.data.count + 4]
                checkpoint.header["critic.q1_model.6.bias"] = entry
                return try checkpoint.bytes()
            },
            Case(name: "offsets backwards", expected: ["actor.betas"]) { checkpoint in
                var entry = checkpoint.entry("actor.betas")
                entry["data_offsets"] = [20, 0]
                checkpoint.header["actor.betas"] = entry
                return try checkpoint.bytes()
            },
            Case(name: "another format", expected: ["format"]) { checkpoint in
                var metadata = checkpoint.header["__metadata__"] as! [String: String]
                metadata["format"] = "something-else/v9"
                checkpoint.header["__metadata__"] = metadata
                return try checkpoint.bytes()
            },
            Case(name: "a configuration that is not JSON", expected: ["configuration", "not valid JSON"]) { checkpoint in
                var metadata = checkpoint.header["__metadata__"] as! [String: String]
                metadata["config"] = "{\"task\": "
                checkpoint.header["__metadata__"] = metadata
                return try checkpoint.bytes()
            },
            Case(name: "a schedule buffer changed", expected: ["actor.betas"]) { checkpoint in
                let start = checkpoint.range("actor.betas").lowerBound
                checkpoint.data.replaceSubrange(start ..< start + 4, with: [0x00, 0x00, 0x00, 0x3F])
                return try checkpoint.bytes()
            },
        ]
        return cases
    }()

    @Test(arguments: cases)
    func aDamagedCheckpointIsRefusedBeforeAnyEpisode(_ bad: Case) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bad-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("damaged.safetensors").path, report = folder.appendingPathComponent("report.json").path
        var checkpoint = try Checkpoint()
        try bad.damage(&checkpoint).write(to: URL(fileURLWithPath: path))
        let outcome = try CommandLineTests.run(["rollout", "--ckpt", path, "--episodes", "1", "--json", report])
        #expect(outcome.status == 1, "\(bad.name): \(outcome)")
        #expect(outcome.errors.contains(path), "\(bad.name): \(outcome)")
        for part in bad.expected { #expect(outcome.errors.contains(part), "\(bad.name): \(outcome)") }
        #expect(!outcome.output.contains("episode"), "\(bad.name): episodes ran: \(outcome)")
        #expect(!FileManager.default.fileExists(atPath: report), "\(bad.name): a report was written")
    }
}
