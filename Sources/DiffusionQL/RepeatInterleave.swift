import NeuralNet

/// Writes each of `rows` rows of `width` values `times` times in a row into `destination`
/// (PyTorch's repeat_interleave along the batch): the candidates of the acting rule and the
/// next-action samples of the max-Q backup each need their state repeated this way.
func repeatInterleave(_ source: UnsafePointer<Float>, rows: Int, width: Int, times: Int,
                      into destination: UnsafeMutablePointer<Float>) {
    for copy in 0..<times {
        copyColumns(width, rows: rows, from: source, stride: width, to: destination + copy * width, stride: times * width)
    }
}
