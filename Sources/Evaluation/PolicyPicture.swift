import DiffusionQL
import Foundation

/// The policy's action distribution at a few states as SVG: per state a row with one histogram per
/// action dimension and a scatter of one pair of dimensions, the policy's samples in blue beside, in
/// orange, the dataset's actions at the states nearest it. A multimodal policy shows several humps or
/// clusters, as the bandit's figure shows them for the toy task.
public enum PolicyPicture {
    public static func svg(_ samples: PolicySamples, stateLabels: [String], nearby: [[Float]]?, pair: (Int, Int),
                           title: String, maxAction: Float = 1) -> String {
        let panel = 150.0, gap = 18.0, margin = 30.0, rowHeader = 18.0, bins = 40
        let columns = samples.actionDimension + 1, width = margin * 2 + Double(columns) * (panel + gap)
        let height = margin * 2 + 40 + Double(samples.stateCount) * (panel + gap + rowHeader)
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(margin)\" y=\"22\" font-size=\"13\" font-weight=\"bold\">\(title)</text>",
            "<text x=\"\(margin)\" y=\"40\"><tspan fill=\"#1f77b4\">policy samples</tspan>"
                + (nearby == nil ? "" : " · <tspan fill=\"#ff7f0e\">dataset actions at the nearest states</tspan>") + "</text>",
        ]
        let width1 = samples.actionDimension
        for state in 0..<samples.stateCount {
            let top = margin + 40 + Double(state) * (panel + gap + rowHeader)
            svg.append("<text x=\"\(margin)\" y=\"\(top + 11)\" font-weight=\"bold\">\(stateLabels[state])</text>")
            let mine = Array(samples.actions[state * samples.samplesPerState * width1 ..< (state + 1) * samples.samplesPerState * width1])
            let theirs = nearby?[state]
            for dimension in 0..<width1 {
                let left = margin + Double(dimension) * (panel + gap), panelTop = top + rowHeader
                svg.append("<rect x=\"\(left)\" y=\"\(panelTop)\" width=\"\(panel)\" height=\"\(panel)\" fill=\"none\" stroke=\"#999\"/>")
                svg.append("<text x=\"\(left + panel / 2)\" y=\"\(panelTop + panel + 12)\" text-anchor=\"middle\" fill=\"#444\">action \(dimension)</text>")
                let policyCounts = histogram(mine, dimension: dimension, width: width1, bins: bins, maxAction: maxAction)
                let datasetCounts = theirs.map { histogram($0, dimension: dimension, width: width1, bins: bins, maxAction: maxAction) }
                let peak = max(policyCounts.max() ?? 1, datasetCounts?.max() ?? 0, 1e-9)
                let binWidth = panel / Double(bins)
                for (bin, value) in policyCounts.enumerated() where value > 0 {
                    let barHeight = value / peak * (panel - 4)
                    svg.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\" fill-opacity=\"0.7\"/>",
                                      left + Double(bin) * binWidth, panelTop + panel - barHeight, binWidth, barHeight))
                }
                if let datasetCounts {
                    let points = datasetCounts.enumerated().flatMap { bin, value -> [String] in
                        let y = panelTop + panel - value / peak * (panel - 4)
                        return [String(format: "%.1f,%.1f", left + Double(bin) * binWidth, y),
                                String(format: "%.1f,%.1f", left + Double(bin + 1) * binWidth, y)]
                    }
                    svg.append("<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"1.5\"/>")
                }
            }
            let left = margin + Double(width1) * (panel + gap), panelTop = top + rowHeader
            svg.append("<rect x=\"\(left)\" y=\"\(panelTop)\" width=\"\(panel)\" height=\"\(panel)\" fill=\"none\" stroke=\"#999\"/>")
            svg.append("<text x=\"\(left + panel / 2)\" y=\"\(panelTop + panel + 12)\" text-anchor=\"middle\" fill=\"#444\">"
                + "action \(pair.0) (→) against action \(pair.1) (↑)</text>")
            func dots(_ values: [Float], colour: String) {
                for row in 0..<(values.count / width1) {
                    let x = left + (Double(values[row * width1 + pair.0]) / Double(maxAction) + 1) / 2 * panel
                    let y = panelTop + (1 - Double(values[row * width1 + pair.1]) / Double(maxAction)) / 2 * panel
                    svg.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.3\" ", x, y) + "fill=\"\(colour)\" fill-opacity=\"0.45\"/>")
                }
            }
            if let theirs { dots(theirs, colour: "#ff7f0e") }
            dots(mine, colour: "#1f77b4")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Shares of `values`' dimension `dimension` in `bins` equal bins over [-maxAction, maxAction].
    static func histogram(_ values: [Float], dimension: Int, width: Int, bins: Int, maxAction: Float) -> [Double] {
        var counts = [Double](repeating: 0, count: bins)
        let rows = values.count / width
        for row in 0..<rows {
            let position = (values[row * width + dimension] / maxAction + 1) / 2 * Float(bins)
            counts[min(max(Int(position), 0), bins - 1)] += 1
        }
        return counts.map { $0 / Double(max(rows, 1)) }
    }
}
