import DiffusionQL
import Foundation
import Testing

/// The schedule against the numbers the spec gives for the reference's vp schedule with N = 5.
@Suite struct NoiseScheduleTests {
    static func expectClose(_ actual: [Double], _ expected: [Double], _ what: String) {
        #expect(actual.count == expected.count, "\(what) count")
        for (a, e) in zip(actual, expected) { #expect(abs(a - e) < 1e-6, "\(what): \(actual) vs \(expected)") }
    }

    @Test func variancePreservingFiveSteps() {
        let schedule = NoiseSchedule(.vp, steps: 5)
        Self.expectClose(schedule.betas, [0.195875, 0.458818, 0.635781, 0.754878, 0.835031], "betas")
        Self.expectClose(schedule.alphasCumprod, [0.804125, 0.435178, 0.158500, 0.038852, 0.006409], "alphas_cumprod")
        Self.expectClose(schedule.posteriorVariance, [0, 0.159114, 0.426742, 0.660907, 0.807766], "posterior variance")
        #expect(schedule.posteriorLogVarianceClipped[0] == (1e-20 as Double).logarithm)
    }

    /// coef1 * a0 + coef2 * a_i is the posterior mean: with a_i = sqrt(ac) a0 (no noise) it returns
    /// sqrt(ac_prev) a0, the noise-free previous step.
    @Test(arguments: NoiseSchedule.Kind.allCases)
    func posteriorMeanOfANoiseFreeStep(_ kind: NoiseSchedule.Kind) {
        let schedule = NoiseSchedule(kind, steps: 7)
        for i in 0..<7 {
            let mean = schedule.posteriorMeanCoef1[i] + schedule.posteriorMeanCoef2[i] * schedule.alphasCumprod[i].squareRoot()
            #expect(abs(mean - schedule.alphasCumprodPrevious[i].squareRoot()) < 1e-9, "\(kind) step \(i)")
        }
        #expect(schedule.betas.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(schedule.namedBuffers.count == 12)
    }

    @Test func linearAndCosineEnds() {
        let linear = NoiseSchedule(.linear, steps: 5)
        #expect(abs(linear.betas[0] - 1e-4) < 1e-12 && abs(linear.betas[4] - 2e-2) < 1e-12)
        let cosine = NoiseSchedule(.cosine, steps: 1000)
        #expect(cosine.betas.last! == 0.999)
        #expect(cosine.betas[0] < 1e-4)
    }
}

extension Double {
    var logarithm: Double { Foundation.log(self) }
}
