import Foundation
import Persistence

/// D4RL dataset files (HDF5): the layout the D4RL benchmark ships and every offline-RL tool reads,
/// so that users' existing files load as they are and the datasets made here load anywhere.
public enum D4RLFile {
    /// Reads a whole file, each dataset straight into its final array (float64 files are converted
    /// by HDF5 as they are read), so peak memory stays near the size of the data itself.
    public static func read(path: String) throws(D4RLFileError) -> D4RLDataset {
        let file = try D4RLReader(path: path)
        let observations = try file.matrix("observations")
        let actions = try file.matrix("actions")
        let nextObservations = try file.optional("next_observations") { key throws(D4RLFileError) in
            try file.floats(key, width: observations.width, of: "observations")
        }
        let dataset = D4RLDataset(
            observationDimension: observations.width, actionDimension: actions.width,
            observations: observations.values, actions: actions.values,
            rewards: try file.vector("rewards"), terminals: try file.flags("terminals"),
            timeouts: try file.optional("timeouts") { key throws(D4RLFileError) in try file.flags(key) },
            nextObservations: nextObservations?.values, infos: try file.infos(), metadata: file.metadata())
        try dataset.validate(path: path)
        return dataset
    }

    /// Writes the layout that h5py and D4RL read: float32 arrays, flags as h5py's bool type, and
    /// metadata as UTF-8 strings, all arrays chunked and gzip-compressed. The file is built under a
    /// temporary name in the same folder and renamed into place, so `path` holds either the old
    /// file or the complete new one, never a partial file.
    public static func write(_ dataset: D4RLDataset, to path: String) throws(D4RLFileError) {
        try dataset.validate(path: path)
        do {
            try AtomicFile.replace(path) { temporary in try D4RLWriter.write(dataset, to: temporary, reportingAs: path) }
        } catch let error as D4RLFileError {
            throw error
        } catch {
            throw .cannotWrite(path: path, reason: "\((error as? AtomicWriteError)?.reason ?? "\(error)")")
        }
    }
}
