import Foundation

/// The bandit figure as SVG: one square panel per set of actions (the data, BC-diffusion,
/// Diffusion-QL), [-1, 1]² with each corner's reward and share of the samples.
public enum BanditPicture {
    public static func svg(panels: [(title: String, actions: [SIMD2<Float>])]) -> String {
        let size = 300.0, margin = 40.0, gap = 30.0
        let width = Double(panels.count) * (size + gap) - gap + 2 * margin, height = size + 2 * margin + 30
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"13\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        ]
        for (index, panel) in panels.enumerated() {
            let left = margin + Double(index) * (size + gap), top = margin + 20
            func point(_ p: SIMD2<Float>) -> (Double, Double) {
                (left + (Double(p.x) + 1) / 2 * size, top + (1 - Double(p.y)) / 2 * size)
            }
            svg.append("<text x=\"\(left + size / 2)\" y=\"\(top - 12)\" text-anchor=\"middle\" font-weight=\"bold\">\(panel.title)</text>")
            svg.append("<rect x=\"\(left)\" y=\"\(top)\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#444\"/>")
            let fractions = CornerFractions(panel.actions)
            for (mode, fraction) in zip(BanditExperiment.modes, fractions.perMode) {
                let (x, y) = point(mode.center)
                let radius = Double(BanditExperiment.cornerRadius) / 2 * size
                svg.append("<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(radius)\" fill=\"none\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>")
                let labelY = mode.center.y > 0 ? y + radius + 14 : y - radius - 6
                svg.append("<text x=\"\(x)\" y=\"\(labelY)\" text-anchor=\"middle\" fill=\"#555\">r=\(mode.rewardMean), "
                    + String(format: "%.0f%%", 100 * fraction) + "</text>")
            }
            for action in panel.actions {
                let (x, y) = point(action)
                svg.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\" fill=\"#1f77b4\" fill-opacity=\"0.5\"/>", x, y))
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
