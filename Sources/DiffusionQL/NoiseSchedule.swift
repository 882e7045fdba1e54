import Foundation

/// The DDPM noise schedule and the constants derived from it, as the reference computes them.
public struct NoiseSchedule: Sendable, Equatable {
    /// Beta schedules of the reference implementation.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Variance-preserving: alpha_i = exp(-b_min/N - (b_max - b_min)(2i + 1) / (2N²)), b_min 0.1, b_max 10.
        case vp
        /// Betas evenly spaced from 1e-4 to 2e-2.
        case linear
        /// Nichol and Dhariwal's cosine schedule (s = 0.008), betas clipped at 0.999.
        case cosine
    }

    public let kind: Kind
    public let steps: Int
    public let betas: [Double]
    public let alphasCumprod: [Double]
    public let alphasCumprodPrevious: [Double]
    /// Posterior q(a_{i-1} | a_i, a_0) variance and its log (clipped at 1e-20, as the reference).
    public let posteriorVariance: [Double]
    public let posteriorLogVarianceClipped: [Double]
    /// Posterior mean = coef1 * a_0 + coef2 * a_i.
    public let posteriorMeanCoef1: [Double]
    public let posteriorMeanCoef2: [Double]

    public init(_ kind: Kind, steps: Int) {
        precondition(steps >= 1, "a diffusion needs at least one step")
        self.kind = kind
        self.steps = steps
        let betas = Self.betas(kind, steps: steps)
        let alphas = betas.map { 1 - $0 }
        var product = 1.0
        let cumulative = alphas.map { product *= $0; return product }
        let previous = [1] + cumulative.dropLast()
        let variance = (0..<steps).map { i in betas[i] * (1 - previous[i]) / (1 - cumulative[i]) }
        self.betas = betas
        alphasCumprod = cumulative
        alphasCumprodPrevious = previous
        posteriorVariance = variance
        posteriorLogVarianceClipped = variance.map { log(max($0, 1e-20)) }
        posteriorMeanCoef1 = (0..<steps).map { i in betas[i] * previous[i].squareRoot() / (1 - cumulative[i]) }
        posteriorMeanCoef2 = (0..<steps).map { i in (1 - previous[i]) * alphas[i].squareRoot() / (1 - cumulative[i]) }
    }

    /// sqrt(1 / ac_i) and sqrt(1 / ac_i - 1): a_0 = recip * a_i - recipMinusOne * eps.
    public func sqrtRecipAlphasCumprod(_ i: Int) -> Double { (1 / alphasCumprod[i]).squareRoot() }
    public func sqrtRecipMinusOneAlphasCumprod(_ i: Int) -> Double { (1 / alphasCumprod[i] - 1).squareRoot() }

    static func betas(_ kind: Kind, steps n: Int) -> [Double] {
        switch kind {
        case .vp:
            let bMin = 0.1, bMax = 10.0, count = Double(n)
            return (0..<n).map { i in
                1 - exp(-bMin / count - 0.5 * (bMax - bMin) * (2 * Double(i + 1) - 1) / (count * count))
            }
        case .linear:
            return (0..<n).map { i in n == 1 ? 1e-4 : 1e-4 + (2e-2 - 1e-4) * Double(i) / Double(n - 1) }
        case .cosine:
            let s = 0.008, total = Double(n)
            let cumulative = (0...n).map { x in pow(cos((Double(x) / total + s) / (1 + s) * .pi / 2), 2) }
            return (1...n).map { i in min(max(1 - cumulative[i] / cumulative[i - 1], 0), 0.999) }
        }
    }

    /// The reference's buffers by their state_dict names (each [N]), for checkpoints.
    public var namedBuffers: [(name: String, values: [Double])] {
        [("betas", betas), ("alphas_cumprod", alphasCumprod), ("alphas_cumprod_prev", alphasCumprodPrevious),
         ("sqrt_alphas_cumprod", alphasCumprod.map { $0.squareRoot() }),
         ("sqrt_one_minus_alphas_cumprod", alphasCumprod.map { (1 - $0).squareRoot() }),
         ("log_one_minus_alphas_cumprod", alphasCumprod.map { log(1 - $0) }),
         ("sqrt_recip_alphas_cumprod", (0..<steps).map(sqrtRecipAlphasCumprod)),
         ("sqrt_recipm1_alphas_cumprod", (0..<steps).map(sqrtRecipMinusOneAlphasCumprod)),
         ("posterior_variance", posteriorVariance),
         ("posterior_log_variance_clipped", posteriorLogVarianceClipped),
         ("posterior_mean_coef1", posteriorMeanCoef1), ("posterior_mean_coef2", posteriorMeanCoef2)]
    }
}
