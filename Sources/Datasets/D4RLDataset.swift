import DiffusionQL

/// A row-major matrix of floats: one row per dataset row, `width` columns. A file's (N,) and (N, 1)
/// arrays both read as width 1, which is written back as (N,), the shape D4RL gives such values.
public struct D4RLMatrix: Sendable, Equatable {
    public var width: Int
    public var values: [Float]

    public init(width: Int, values: [Float]) {
        self.width = width
        self.values = values
    }
}

/// The contents of one D4RL file, one entry per step as collected: the rows are consecutive steps,
/// which is what the loader needs to pair each observation with the next one.
public struct D4RLDataset: Sendable, Equatable {
    public var observationDimension: Int
    public var actionDimension: Int
    public var observations: [Float]
    public var actions: [Float]
    public var rewards: [Float]
    /// Set where the episode ended in a true terminal state (no bootstrapping from it).
    public var terminals: [Bool]
    /// Set where the episode was cut by its time limit; nil when the file has no timeouts key.
    public var timeouts: [Bool]?
    public var nextObservations: [Float]?
    /// The datasets under infos/ by name ("qpos", "qvel", "goal", "action_log_probs"): the simulator
    /// state at each row, which a replay of the data needs and the loader ignores.
    public var infos: [String: D4RLMatrix]
    /// The simple values under metadata/ (strings and numbers) by path below it, e.g. "algorithm";
    /// arrays such as the behaviour policy's weights are left out.
    public var metadata: [String: String]

    public init(observationDimension: Int, actionDimension: Int, observations: [Float], actions: [Float],
                rewards: [Float], terminals: [Bool], timeouts: [Bool]? = nil, nextObservations: [Float]? = nil,
                infos: [String: D4RLMatrix] = [:], metadata: [String: String] = [:]) {
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        self.observations = observations
        self.actions = actions
        self.rewards = rewards
        self.terminals = terminals
        self.timeouts = timeouts
        self.nextObservations = nextObservations
        self.infos = infos
        self.metadata = metadata
    }

    public var rows: Int { rewards.count }
    public var terminalCount: Int { terminals.count { $0 } }
    public var timeoutCount: Int { timeouts?.count { $0 } ?? 0 }

    /// Episodes as the loader delimits them: each ends at a terminal or a time cut, and a trailing
    /// run of rows without either counts as one more (an episode interrupted by the end of the data).
    public func episodes(episodeLimit: Int = 1000) -> Int {
        let cuts = timeLimitCuts(episodeLimit: episodeLimit)
        let ends = (0..<rows).count { terminals[$0] || cuts[$0] }
        return ends + (rows > 0 && !terminals[rows - 1] && !cuts[rows - 1] ? 1 : 0)
    }

    /// The transitions (s, a, r, s', not_done) that D4RL's `qlearning_dataset` makes of these rows:
    /// row i with row i + 1 as its next observation, for every row but the last, leaving out the rows
    /// cut by the time limit (their next row starts another episode). Without a timeouts key the cut
    /// falls every `episodeLimit` steps of the loader's step counter (the environment's time limit).
    public func transitions(episodeLimit: Int = 1000) throws -> Transitions {
        let cuts = timeLimitCuts(episodeLimit: episodeLimit)
        let kept = (0..<max(rows - 1, 0)).filter { !cuts[$0] }
        return try Transitions(
            stateDimension: observationDimension, actionDimension: actionDimension,
            states: gather(observations, width: observationDimension, rows: kept),
            actions: gather(actions, width: actionDimension, rows: kept),
            rewards: gather(rewards, width: 1, rows: kept),
            nextStates: gather(observations, width: observationDimension, rows: kept, offset: 1),
            notDone: kept.map { terminals[$0] ? 0 : 1 })
    }

    /// The undiscounted return of every episode that ends in the data (at a terminal or a time cut);
    /// an episode interrupted by the end of the data is left out, since its return is not an episode's.
    public func episodeReturns(episodeLimit: Int = 1000) -> [Double] {
        let cuts = timeLimitCuts(episodeLimit: episodeLimit)
        var returns: [Double] = [], current = 0.0
        for row in 0..<rows {
            current += Double(rewards[row])
            if terminals[row] || cuts[row] {
                returns.append(current)
                current = 0
            }
        }
        return returns
    }

    /// Checks that the file fits the task it is to be used with; `path` names the file in the error.
    public func requireDimensions(observation: Int, action: Int, path: String) throws(D4RLFileError) {
        guard observationDimension == observation else {
            throw .wrongDimension(path: path, key: "observations", columns: observationDimension, needed: observation)
        }
        guard actionDimension == action else {
            throw .wrongDimension(path: path, key: "actions", columns: actionDimension, needed: action)
        }
    }

    /// Rows whose next row belongs to another episode because of the time limit. This follows the
    /// loader's step counter exactly when there are no timeouts, including its quirk: after a
    /// terminal the counter restarts at 1, not 0, so the next episode is cut one step early.
    private func timeLimitCuts(episodeLimit: Int) -> [Bool] {
        precondition(rowsAgree, "D4RLDataset: its fields have different numbers of rows")
        if let timeouts { return timeouts }
        var cuts = [Bool](repeating: false, count: rows)
        var step = 0
        for row in 0..<rows {
            if step == episodeLimit - 1 {
                cuts[row] = true
                step = 0
            } else {
                step = terminals[row] ? 1 : step + 1
            }
        }
        return cuts
    }

    /// Whether the per-row fields the loader uses all have `rows` rows, as `D4RLFile.read` ensures;
    /// a dataset assembled in code that breaks this is a programming error, caught before any copy.
    private var rowsAgree: Bool {
        observations.count == rows * observationDimension && actions.count == rows * actionDimension
            && terminals.count == rows && (timeouts?.count ?? rows) == rows
    }

    /// The listed rows of a row-major matrix, each taken `offset` rows further down, copied row by
    /// row into the result's storage (a million-row dataset would be slow element by element).
    private func gather(_ values: [Float], width: Int, rows kept: [Int], offset: Int = 0) -> [Float] {
        [Float](unsafeUninitializedCapacity: kept.count * width) { buffer, count in
            values.withUnsafeBufferPointer { source in
                for (index, row) in kept.enumerated() {
                    (buffer.baseAddress! + index * width)
                        .initialize(from: source.baseAddress! + (row + offset) * width, count: width)
                }
            }
            count = kept.count * width
        }
    }

    /// Checks what a file must satisfy, before writing one or after reading one: every field has
    /// the rows of 'observations', and observations, actions and rewards are finite.
    func validate(path: String) throws(D4RLFileError) {
        let expected = try wholeRows("observations", count: observations.count, width: observationDimension, path: path)
        guard expected > 0 else {
            throw .wrongShape(path: path, key: "observations", shape: [0, observationDimension],
                              expected: "at least one row")
        }
        var fields: [(String, Int, Int)] = [
            ("actions", actions.count, actionDimension), ("rewards", rewards.count, 1),
            ("terminals", terminals.count, 1),
        ]
        if let timeouts { fields.append(("timeouts", timeouts.count, 1)) }
        if let nextObservations { fields.append(("next_observations", nextObservations.count, observationDimension)) }
        fields += infos.sorted { $0.key < $1.key }.map { ("infos/\($0.key)", $0.value.values.count, $0.value.width) }
        for (key, count, width) in fields {
            let found = try wholeRows(key, count: count, width: width, path: path)
            guard found == expected else {
                throw .rowMismatch(path: path, key: key, rows: found, reference: "observations", referenceRows: expected)
            }
        }
        for (key, values, width) in [("observations", observations, observationDimension),
                                     ("actions", actions, actionDimension), ("rewards", rewards, 1)] {
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw .nonFinite(path: path, key: key, row: index / width, column: index % width, value: values[index])
            }
        }
    }

    private func wholeRows(_ key: String, count: Int, width: Int, path: String) throws(D4RLFileError) -> Int {
        guard width > 0, count % width == 0 else {
            throw .notWholeRows(path: path, key: key, count: count, width: width)
        }
        return count / width
    }
}
