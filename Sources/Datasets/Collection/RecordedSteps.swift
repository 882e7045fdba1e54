import Environments
import SoftActorCritic

extension D4RLDataset {
    /// A D4RL dataset of recorded steps (a replay buffer's or collected episodes' columns, oldest first).
    /// When the last step ended no episode, it is marked as a time cut: the data, not the MDP, stopped
    /// there, so the loader must not pair it with a next row.
    init(steps columns: [String: [Float]], observationDimension: Int, actionDimension: Int,
         qposDimension: Int, qvelDimension: Int, metadata: [String: String]) {
        let flags = { (name: String) in columns[name]!.map { $0 != 0 } }
        var timeouts = flags("timeouts")
        let terminals = flags("terminals")
        if let last = timeouts.indices.last, !terminals[last] { timeouts[last] = true }
        self.init(observationDimension: observationDimension, actionDimension: actionDimension,
                  observations: columns["observations"]!, actions: columns["actions"]!, rewards: columns["rewards"]!,
                  terminals: terminals, timeouts: timeouts, nextObservations: columns["next_observations"]!,
                  infos: ["qpos": D4RLMatrix(width: qposDimension, values: columns["qpos"]!),
                          "qvel": D4RLMatrix(width: qvelDimension, values: columns["qvel"]!),
                          "action_log_probs": D4RLMatrix(width: 1, values: columns["action_log_probs"]!)],
                  metadata: metadata)
    }

    /// This dataset followed by `other` (medium-expert is medium then expert).
    public func appending(_ other: D4RLDataset) -> D4RLDataset {
        var joined = self
        joined.observations += other.observations
        joined.actions += other.actions
        joined.rewards += other.rewards
        joined.terminals += other.terminals
        joined.timeouts = (timeouts ?? Array(repeating: false, count: rows)) + (other.timeouts ?? Array(repeating: false, count: other.rows))
        joined.nextObservations = nextObservations.flatMap { mine in other.nextObservations.map { mine + $0 } }
        joined.infos = [:]
        for (name, matrix) in infos {
            if let theirs = other.infos[name], theirs.width == matrix.width {
                joined.infos[name] = D4RLMatrix(width: matrix.width, values: matrix.values + theirs.values)
            }
        }
        return joined
    }
}

extension SACRun {
    /// A SAC run whose medium-replay data (the replay buffer at the medium policy) is written as a D4RL
    /// file, the way `collect sac` keeps it.
    public convenience init(folder: String, environment: EnvironmentID, config: SACConfig, models: ModelDirectory,
                            threads: Int = 1, startOver: Bool = false) throws {
        try self.init(folder: folder, environment: environment, config: config, models: models, threads: threads,
                      startOver: startOver) {
            replay, metadata, path in
            let dataset = D4RLDataset(
                steps: replay.chronological(rows: replay.count), observationDimension: replay.observationDimension,
                actionDimension: replay.actionDimension, qposDimension: replay.qposDimension,
                qvelDimension: replay.qvelDimension, metadata: metadata)
            try D4RLFile.write(dataset, to: path)
        }
    }
}
