#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Parallel

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
        let (value, spare) = Self.normalPair(uniform(), uniform())
        spareNormal = spare
        return value
    }

    /// Box-Muller's two normals from two uniforms, in the order `normal()` returns them.
    @inline(__always)
    static func normalPair(_ first: Double, _ second: Double) -> (Double, Double) {
        // 1 - u keeps the logarithm's argument in (0, 1].
        let radius = (-2 * log(1 - first)).squareRoot()
        let angle = 2 * Double.pi * second
        return (radius * cos(angle), radius * sin(angle))
    }

    /// Takes from the generator now what `count` calls of `normal()` would take, leaving it as they
    /// would, and returns those draws deferred: their logarithms and sines, which cost 40 times the
    /// uniforms, can then be made in parts on several threads (`DeferredNormals.fill`). `uniforms`
    /// needs room for count + 1 values and must outlive the result.
    public mutating func deferNormals(_ count: Int, uniforms: UnsafeMutablePointer<Double>) -> DeferredNormals {
        let leadingSpare = count > 0 ? spareNormal : nil
        if leadingSpare != nil { spareNormal = nil }
        let fresh = count - (leadingSpare == nil ? 0 : 1), pairs = (fresh + 1) / 2
        for index in 0 ..< 2 * pairs { uniforms[index] = uniform() }
        if fresh % 2 == 1 { spareNormal = Self.normalPair(uniforms[2 * pairs - 2], uniforms[2 * pairs - 1]).1 }
        return DeferredNormals(count: count, leadingSpare: leadingSpare, uniforms: UnsafePointer(uniforms))
    }
}

/// `count` draws of `SeededGenerator.normal()` whose uniforms were taken (`deferNormals`) but whose
/// Box-Muller transforms are still to be made: any range of them, in any order, on any thread, with
/// the bits that `normal()` would have given.
public struct DeferredNormals: @unchecked Sendable {
    public let count: Int
    /// The spare the generator held, which is draw 0.
    let leadingSpare: Double?
    /// One pair of uniforms for every two of the other draws.
    let uniforms: UnsafePointer<Double>

    /// Draws per part of `fill(into:on:)`.
    public static let drawsPerPart = 256

    /// Writes every draw as Float to destination[0 ..< count], in parts on `pool` (in turn without one).
    public func fill(into destination: UnsafeMutablePointer<Float>, on pool: WorkerPool?) {
        let parts = (count + Self.drawsPerPart - 1) / Self.drawsPerPart
        WorkerPool.forEach(parts, on: pool) { part in
            let first = part * Self.drawsPerPart
            fill(first ..< min(first + Self.drawsPerPart, count), into: destination + first)
        }
    }

    /// Writes draws `range` as Float to destination[0 ..< range.count].
    public func fill(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "draws \(range) of \(count)")
        let shift = leadingSpare == nil ? 0 : 1
        var index = range.lowerBound, next = destination
        func write(_ value: Double) {
            next.pointee = Float(value)
            next += 1
            index += 1
        }
        if index == 0, let leadingSpare, !range.isEmpty { write(leadingSpare) }
        while index < range.upperBound {
            let fresh = index - shift, pair = fresh / 2
            let (first, second) = SeededGenerator.normalPair(uniforms[2 * pair], uniforms[2 * pair + 1])
            if fresh % 2 == 0 { write(first) }
            if index < range.upperBound { write(second) }
        }
    }
}
