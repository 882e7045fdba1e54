import Parallel
import SeededRandom
import Testing

@Suite struct SeededGeneratorTests {
    static func draws(_ generator: inout SeededGenerator, _ count: Int) -> [UInt64] {
        (0..<count).map { _ in generator.next() }
    }

    /// xoshiro256** seeded by SplitMix64, as published by Blackman and Vigna.
    @Test func matchesTheReferenceAlgorithm() {
        var zero = SeededGenerator(seed: 0), answer = SeededGenerator(seed: 42)
        #expect(Self.draws(&zero, 3) == [0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a, 0x1a5f_849d_4933_e6e0])
        #expect(Self.draws(&answer, 3) == [0x1578_0b2e_0c2e_c716, 0x6104_d986_6d11_3a7e, 0xae17_5332_39e4_99a1])
    }

    @Test func sameSeedSameStreamOtherSeedOtherStream() {
        var a = SeededGenerator(seed: 123), b = SeededGenerator(seed: 123), c = SeededGenerator(seed: 124)
        let first = Self.draws(&a, 100)
        #expect(Self.draws(&b, 100) == first)
        #expect(Self.draws(&c, 100) != first)
    }

    @Test func combinedSeedsDependOnTheirOrder() {
        var ab = SeededGenerator(seeds: 1, 2), ba = SeededGenerator(seeds: 2, 1), again = SeededGenerator(seeds: 1, 2)
        let first = Self.draws(&ab, 10)
        #expect(Self.draws(&ba, 10) != first)
        #expect(Self.draws(&again, 10) == first)
        var one = SeededGenerator(seeds: 1), plain = SeededGenerator(seed: 1)
        #expect(Self.draws(&one, 10) != Self.draws(&plain, 10), "combining mixes even a single seed")
    }

    @Test func uniformStaysInTheUnitIntervalAndFillsIt() {
        var generator = SeededGenerator(seed: 9)
        let sample = SampleStatistics(values: (0..<100_000).map { _ in generator.uniform() })
        #expect(sample.values.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(sample.mean - 0.5) < 0.005)
        for (bin, share) in sample.histogram(bins: 10, low: 0, high: 1).enumerated() {
            #expect(abs(share - 0.1) < 0.005, "bin \(bin) holds \(share)")
        }
    }

    @Test func uniformInARangeStaysInIt() {
        var generator = SeededGenerator(seed: 10)
        let values = (0..<10_000).map { _ in generator.uniform(-0.25, 0.75) }
        #expect(values.allSatisfy { $0 >= -0.25 && $0 < 0.75 })
        #expect(values.min()! < -0.24 && values.max()! > 0.74)
    }

    @Test func normalHasMeanZeroAndUnitDeviation() {
        var generator = SeededGenerator(seed: 11)
        let sample = SampleStatistics(values: (0..<100_000).map { _ in generator.normal() })
        #expect(sample.values.allSatisfy { $0.isFinite })
        #expect(abs(sample.mean) < 0.015)
        #expect(abs(sample.standardDeviation - 1) < 0.01)
        #expect(abs(sample.fraction { abs($0) < 1 } - 0.6827) < 0.01)
        #expect(abs(sample.fraction { abs($0) > 2 } - 0.0455) < 0.005)
    }

    @Test func copiesContinueIndependently() {
        var original = SeededGenerator(seed: 5)
        _ = original.normal() // leaves a spare normal behind
        var copy = original
        #expect(original.normal() == copy.normal())
        #expect(Self.draws(&original, 5) == Self.draws(&copy, 5))
    }

    /// No two purposes share a stream: every key, with or without an index, starts a stream of its own
    /// (episode 1's resets used to be the trainer's initial weights).
    @Test func everyRandomStreamIsItsOwn() {
        var firstDraws: [UInt64: String] = [:]
        for seed: UInt64 in [0, 1, 7] {
            for stream in RandomStream.allCases {
                for index in [nil, 0, 1, 2, 15] as [Int?] {
                    var generator = SeededGenerator(stream, seed: seed, index: index)
                    let name = "\(stream) seed \(seed) index \(index.map(String.init) ?? "none")"
                    if let other = firstDraws.updateValue(name, forKey: generator.next()) {
                        Issue.record("\(name) starts as \(other) does")
                    }
                }
            }
        }
        #expect(Set(RandomStream.allCases.map(\.rawValue)).count == RandomStream.allCases.count)
        var trainer = SeededGenerator(.initialization, seed: 0), episodeOne = SeededGenerator(.episodeReset, seed: 0, index: 1)
        #expect(trainer.next() != episodeOne.next())
    }

    /// Deferred draws, made in parts in any order or on a pool, give the bits of `normal()` called in
    /// turn, and leave the generator where those calls leave it: with a spare held before or not, odd
    /// and even counts, one part of a pool's or several.
    @Test(arguments: [0, 1, 2, 7, 8, 1_001, 3_001])
    func deferredNormalsAreTheNormalsInTurn(_ count: Int) {
        for spareFirst in [false, true] {
            var generator = SeededGenerator(seed: 11)
            if spareFirst { _ = generator.normal() }
            var deferred = generator
            let expected = (0..<count).map { _ in Float(generator.normal()) }
            let uniforms = UnsafeMutablePointer<Double>.allocate(capacity: count + 1)
            defer { uniforms.deallocate() }
            let normals = deferred.deferNormals(count, uniforms: uniforms)
            var made = [Float](repeating: .nan, count: count)
            let cuts = [0, min(count, 3), min(count, 4), count / 2, count].sorted()
            for (low, high) in zip(cuts, cuts.dropFirst()).reversed() {
                made.withUnsafeMutableBufferPointer { normals.fill(low ..< high, into: $0.baseAddress! + low) }
            }
            #expect(made.map(\.bitPattern) == expected.map(\.bitPattern), "\(count) draws, spare first: \(spareFirst)")
            var pooled = [Float](repeating: .nan, count: count)
            pooled.withUnsafeMutableBufferPointer { normals.fill(into: $0.baseAddress!, on: WorkerPool(threads: 2)) }
            #expect(pooled.map(\.bitPattern) == expected.map(\.bitPattern), "\(count) draws on a pool, spare first: \(spareFirst)")
            #expect(deferred.snapshot == generator.snapshot)
            #expect(deferred.normal() == generator.normal())
        }
    }
}
