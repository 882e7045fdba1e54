import Environments
import Foundation

/// An AntMaze dataset's trajectories over its maze as SVG, the way the D4RL paper shows its data: the
/// walls, the ant's path in every episode (one colour per episode, a point every `stride` rows), the
/// start cell and the evaluation goal with its 0.5 m radius.
public enum AntMazePicture {
    public static func svg(_ dataset: D4RLDataset, maze: Maze, title: String, subtitle: String, evaluationGoal: PlanarPosition?,
                           episodes maximumEpisodes: Int = 150, stride: Int = 20) -> String {
        let scale = 12.0, margin = 10.0, header = 40.0
        let bounds = maze.bounds
        // Wide enough for the subtitle beside the smallest maze.
        let width = max((bounds.maximum.x - bounds.minimum.x) * scale + 2 * margin, 340)
        let height = (bounds.maximum.y - bounds.minimum.y) * scale + 2 * margin + header
        func place(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
            (margin + (x - bounds.minimum.x) * scale, header + margin + (y - bounds.minimum.y) * scale)
        }
        func point(_ x: Double, _ y: Double) -> String {
            let (px, py) = place(x, y)
            return String(format: "%.0f,%.0f", px, py)
        }
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"13\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(margin)\" y=\"17\" font-weight=\"bold\">\(title)</text>",
            "<text x=\"\(margin)\" y=\"34\" font-size=\"11\" fill=\"#444\">\(subtitle)</text>",
        ]
        let cell = Maze.cellSize * scale
        for row in 0..<maze.rowCount {
            for column in 0..<maze.columnCount where maze.isWall(Maze.Cell(row: row, column: column)) {
                let centre = maze.centre(of: Maze.Cell(row: row, column: column))
                let corner = place(centre.x - Maze.cellSize / 2, centre.y - Maze.cellSize / 2)
                svg.append("<rect x=\"\(corner.x)\" y=\"\(corner.y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"#8c8c8c\"/>")
            }
        }
        let qpos = dataset.infos["qpos"] ?? D4RLMatrix(width: dataset.observationDimension, values: dataset.observations)
        var episode = 0, points: [String] = []
        func flush() {
            if points.count > 1 {
                let hue = (episode * 137) % 360
                svg.append("<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"hsl(\(hue),70%,45%)\" "
                    + "stroke-opacity=\"0.5\" stroke-width=\"1\"/>")
            }
            points = []
            episode += 1
        }
        for row in 0..<dataset.rows where episode < maximumEpisodes {
            if row % stride == 0 { points.append(point(Double(qpos.values[row * qpos.width]), Double(qpos.values[row * qpos.width + 1]))) }
            if dataset.timeouts?[row] == true { flush() }
        }
        flush()
        let start = maze.centre(of: maze.start)
        let startPoint = place(start.x, start.y)
        svg.append("<circle cx=\"\(startPoint.x)\" cy=\"\(startPoint.y)\" r=\"5\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>")
        if let goal = evaluationGoal {
            let centre = place(goal.x, goal.y)
            svg.append("<circle cx=\"\(centre.x)\" cy=\"\(centre.y)\" r=\"\(0.5 * scale)\" fill=\"#2ca02c\" fill-opacity=\"0.6\" stroke=\"#145214\"/>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
