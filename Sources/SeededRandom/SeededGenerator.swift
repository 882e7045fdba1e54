#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded pseudo-random generator: xoshiro256** (Blackman and Vigna), its state filled from the seed
/// by SplitMix64. The same seed gives the same stream on every machine and build.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    /// The second normal of the last Box-Muller pair, handed out by the next `normal()` call.
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    /// A seed derived from several numbers (a run's seed and an episode index, say), so that related
    /// streams do not overlap.
    public init(seeds: UInt64...) {
        var combined: UInt64 = 0x2545_F491_4F6C_DD1D
        for seed in seeds {
            var generator = SeededGenerator(seed: combined ^ seed)
            combined = generator.next()
        }
        self.init(seed: combined)
    }

    /// The whole state as text (four hex words, and the pending normal's bits when there is one), so
    /// that a resumed run continues the exact stream an interrupted one would have drawn.
    public var snapshot: String {
        var words = [s0, s1, s2, s3].map { String($0, radix: 16) }
        if let spare = spareNormal { words.append(String(spare.bitPattern, radix: 16)) }
        return words.joined(separator: ":")
    }

    /// A generator in the state that `snapshot` described; nil when the text is not such a state.
    public init?(snapshot: String) {
        let words = snapshot.split(separator: ":").map { UInt64($0, radix: 16) }
        guard words.count == 4 || words.count == 5, !words.contains(nil) else { return nil }
        s0 = words[0]!; s1 = words[1]!; s2 = words[2]!; s3 = words[3]!
        spareNormal = words.count == 5 ? Double(bitPattern: words[4]!) : nil
        guard s0 | s1 | s2 | s3 != 0 else { return nil }
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform draw from [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform draw from [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// A standard normal draw (Box-Muller; each pair of uniforms gives two normals).
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        // 1 - u keeps the logarithm's argument in (0, 1].
        let radius = (-2 * log(1 - uniform())).squareRoot()
        let angle = 2 * Double.pi * uniform()
        spareNormal = radius * sin(angle)
        return radius * cos(angle)
    }
}
