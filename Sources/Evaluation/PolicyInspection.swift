import Datasets
import DiffusionQL
import Foundation
import NeuralNet
import Persistence

public enum PolicyInspectionError: Error, Equatable, CustomStringConvertible {
    case badStates(path: String, reason: String)
    case rowOutOfRange(path: String, row: Int, rows: Int)
    case badPair(pair: [Int], actionDimension: Int)

    public var description: String {
        switch self {
        case let .badStates(path, reason): "\(path): \(reason)"
        case let .rowOutOfRange(path, row, rows): "\(path): row \(row) is out of range; the file has rows 0 to \(rows - 1)"
        case let .badPair(pair, actionDimension):
            "--pair \(pair.map(String.init).joined(separator: ",")) must name two different action dimensions of 0 to \(actionDimension - 1)"
        }
    }
}

/// Where `policy sample` and `policy plot` get their states and write what they found: states from
/// a .npy file or from rows of a D4RL file, samples to .npy or safetensors, pictures to SVG.
public enum PolicyInspection {
    /// The states of a .npy file: rank 2 (states × the state dimension) or rank 1 (one state).
    public static func states(npy path: String, stateDimension: Int) throws -> [Float] {
        let array = try NumPyFile.read(path)
        guard array.shape.count == 1 || array.shape.count == 2 else {
            throw PolicyInspectionError.badStates(path: path, reason: "an array of rank \(array.shape.count) (shape \(array.shape)); "
                + "states are rank 2 (states × \(stateDimension)) or one state of rank 1")
        }
        guard array.shape.last == stateDimension, array.values.count > 0 else {
            throw PolicyInspectionError.badStates(path: path, reason: "states of \(array.shape.last ?? 0) values (shape \(array.shape)); "
                + "the checkpoint's states have \(stateDimension)")
        }
        if let index = array.values.firstIndex(where: { !$0.isFinite }) {
            throw PolicyInspectionError.badStates(path: path, reason: "value \(index) is \(array.values[index]); states must be finite")
        }
        return array.values
    }

    /// The observations of `rows` of a D4RL file.
    public static func states(of dataset: D4RLDataset, path: String, rows: [Int], stateDimension: Int) throws -> [Float] {
        try dataset.requireDimensions(observation: stateDimension, action: dataset.actionDimension, path: path)
        return try rows.flatMap { row -> ArraySlice<Float> in
            guard (0..<dataset.rows).contains(row) else { throw PolicyInspectionError.rowOutOfRange(path: path, row: row, rows: dataset.rows) }
            return dataset.observations[row * stateDimension ..< (row + 1) * stateDimension]
        }
    }

    /// The dataset's actions at the `count` rows whose observations are nearest `state` (Euclidean).
    public static func actionsNear(_ state: ArraySlice<Float>, in dataset: D4RLDataset, count: Int) -> [Float] {
        let width = dataset.observationDimension
        let distances = (0..<dataset.rows).map { row -> (Float, Int) in
            var sum: Float = 0
            for k in 0..<width {
                let difference = dataset.observations[row * width + k] - state[state.startIndex + k]
                sum += difference * difference
            }
            return (sum, row)
        }
        return distances.sorted { $0 < $1 }.prefix(count).flatMap { _, row in
            dataset.actions[row * dataset.actionDimension ..< (row + 1) * dataset.actionDimension]
        }
    }

    /// Writes the samples (and q_min) as .npy (q_min beside it, `NAME_q.npy`) or as safetensors (tensors
    /// `actions`, `q_min` and `states`); returns the paths written.
    @discardableResult
    public static func write(_ samples: PolicySamples, states: [Float], to path: String) throws -> [String] {
        let actionShape = [samples.stateCount, samples.samplesPerState, samples.actionDimension]
        if path.hasSuffix(".safetensors") {
            var tensors = [NamedTensor(name: "actions", shape: actionShape, values: samples.actions),
                           NamedTensor(name: "states", shape: [samples.stateCount, states.count / samples.stateCount], values: states)]
            if let q = samples.qMin { tensors.append(NamedTensor(name: "q_min", shape: [samples.stateCount, samples.samplesPerState], values: q)) }
            try SafetensorsFile.write(tensors, metadata: [:], to: path)
            return [path]
        }
        try NumPyFile.write(NumPyArray(shape: actionShape, values: samples.actions), to: path)
        guard let q = samples.qMin else { return [path] }
        let qPath = qPath(for: path)
        try NumPyFile.write(NumPyArray(shape: [samples.stateCount, samples.samplesPerState], values: q), to: qPath)
        return [path, qPath]
    }

    /// Where the q_min of a .npy output goes.
    public static func qPath(for path: String) -> String {
        (path.hasSuffix(".npy") ? String(path.dropLast(4)) : path) + "_q.npy"
    }
}
