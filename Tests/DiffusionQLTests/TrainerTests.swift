import DiffusionQL
import Foundation
import GradientCheck
import NeuralNet
import SeededRandom
import Testing

/// A small run: 3-D states, 2-D actions, narrow networks, 5 steps per epoch.
enum SmallRun {
    static func config(seed: UInt64 = 3) -> TrainingConfig {
        var config = TrainingConfig(task: "toy", stateDimension: 3, actionDimension: 2)
        config.diffusionSteps = 3
        config.hiddenWidth = 16
        config.batchSize = 8
        config.epochs = 4
        config.stepsPerEpoch = 5
        config.saveEvery = 2
        config.gradientNormClip = 9
        config.seed = seed
        return config
    }

    static func data(count: Int = 64, rewardScale: Float = 1) -> Transitions {
        let states = GradientCheck.randomValues(count * 3, seed: 1)
        let actions = GradientCheck.randomValues(count * 2, scale: 0.9, seed: 2)
        let rewards = GradientCheck.randomValues(count, seed: 3).map { $0 * rewardScale }
        let next = GradientCheck.randomValues(count * 3, seed: 4)
        let notDone = (0..<count).map { Float($0 % 7 == 6 ? 0 : 1) }
        return try! Transitions(stateDimension: 3, actionDimension: 2, states: states, actions: actions, rewards: rewards,
                                nextStates: next, notDone: notDone)
    }

    static func temporaryFolder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dql-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

@Suite struct TrainerTests {
    @Test func presetsFollowThePaperTable() throws {
        let hopper = try #require(TrainingConfig.preset(task: "hopper-medium-v2", stateDimension: 11, actionDimension: 3))
        #expect(hopper.gradientNormClip == 9 && hopper.topK == 2 && hopper.eta == 1 && !hopper.maxQBackup)
        #expect(hopper.epochs == 2000 && hopper.stepsPerEpoch == 1000 && hopper.batchSize == 256)
        let maze = try #require(TrainingConfig.preset(task: "antmaze-medium-play-v0", stateDimension: 29, actionDimension: 8))
        #expect(maze.actorLearningRate == 1e-3 && maze.eta == 2 && maze.maxQBackup && maze.epochs == 1000)
        #expect(TrainingConfig.preset(task: "hopper-random-v2", stateDimension: 11, actionDimension: 3) == nil)
        let umaze = try #require(TrainingConfig.preset(task: "antmaze-umaze-v0", stateDimension: 29, actionDimension: 8))
        #expect(umaze.eta == 0.5 && umaze.gradientNormClip == 2 && !umaze.maxQBackup && umaze.topK == 2)
        #expect(umaze.rewardTransform == .antMaze && hopper.rewardTransform == nil)
        var v2 = try #require(TrainingConfig.preset(task: "antmaze-umaze-v2", stateDimension: 29, actionDimension: 8))
        v2.task = umaze.task
        #expect(v2 == umaze)
    }

    /// AntMaze's rewards train as (r − 0.5) × 4; a configuration written before the field decodes
    /// without a transform.
    @Test func antMazeRewardsAreTransformedAsThePaperTrainsThem() throws {
        var config = SmallRun.config()
        config.rewardTransform = .antMaze
        let data = SmallRun.data()
        let run = try TrainingRun(folder: RunFolder(path: SmallRun.temporaryFolder()), config: config, data: data)
        #expect(run.data.rewards == data.rewards.map { ($0 - 0.5) * 4 } && run.data.states == data.states)
        let written = try config.encodedJSON()
        #expect(written.contains("\"reward_transform\""))
        #expect(try TrainingConfig.decode(json: written) == config)
        var fields = try #require(JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any])
        #expect(fields.removeValue(forKey: "reward_transform") != nil)
        let older = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        #expect(try TrainingConfig.decode(json: older).rewardTransform == nil)
    }

    @Test func invalidConfigNamesTheField() {
        var config = SmallRun.config()
        config.batchSize = 0
        config.eta = .nan
        #expect {
            try Trainer(config: config)
        } throws: { error in
            let text = "\(error)"
            return text.contains("batch_size") && text.contains("eta")
        }
    }

    /// The target critic moves by tau towards the critic every step; the EMA actor stays the initial
    /// actor until `emaStartStep` and then moves by 1 - decay every `emaEvery` steps.
    @Test func targetAndEMAUpdates() throws {
        var config = SmallRun.config()
        config.emaStartStep = 2
        config.emaEvery = 2
        let trainer = try Trainer(config: config)
        let data = SmallRun.data()
        let initialActor = trainer.actor.parameters.values.array
        let initialTarget = trainer.criticTarget.parameters.values.array
        try trainer.step(on: data)
        let critic = trainer.critic.parameters.values.array
        let target = trainer.criticTarget.parameters.values.array
        for i in stride(from: 0, to: target.count, by: 97) {
            #expect(abs(target[i] - (initialTarget[i] + 0.005 * (critic[i] - initialTarget[i]))) <= 1e-6)
        }
        try trainer.step(on: data)
        #expect(trainer.emaActor.parameters.values.array == initialActor)
        try trainer.step(on: data)  // step index 2: the first EMA update
        let actor = trainer.actor.parameters.values.array, ema = trainer.emaActor.parameters.values.array
        #expect(ema != initialActor)
        for i in stride(from: 0, to: ema.count, by: 31) {
            #expect(abs(ema[i] - (initialActor[i] + 0.005 * (actor[i] - initialActor[i]))) <= 1e-6)
        }
        try trainer.step(on: data)  // index 3: no EMA update
        #expect(trainer.emaActor.parameters.values.array == ema)
    }

    @Test func cosineDecayReachesZeroAtTheEnd() throws {
        var config = SmallRun.config()
        config.learningRateDecay = true
        config.epochs = 1
        config.stepsPerEpoch = 4
        let trainer = try Trainer(config: config)
        var rates: [Float] = []
        for _ in 0..<4 {
            try trainer.step(on: SmallRun.data())
            rates.append(trainer.actorOptimizer.learningRate)
        }
        // Steps 0..3 of 4 use lr * (1 + cos(pi t / 4)) / 2.
        let expected = (0..<4).map { Float(3e-4 * 0.5 * (1 + cos(Double.pi * Double($0) / 4))) }
        for (rate, want) in zip(rates, expected) { #expect(abs(rate - want) <= 1e-9) }
    }

    @Test func sameSeedSameWeightsWhateverTheBLASThreads() throws {
        func weights(threads: Int) throws -> [Float] {
            var config = SmallRun.config()
            config.hiddenWidth = 64
            config.batchSize = 64
            let trainer = try Trainer(config: config)
            try BLAS.withThreads(threads) {
                for _ in 0..<3 { try trainer.step(on: SmallRun.data()) }
            }
            return trainer.actor.parameters.values.array + trainer.critic.parameters.values.array
        }
        let one = try weights(threads: 1)
        #expect(try weights(threads: 2) == one)
        #expect(try weights(threads: 1) == one)
    }

    /// The critic alone fits a fixed reward when the discount is 0 (the bandit's regression).
    @Test func criticRegressesRewardsWithoutBootstrapping() throws {
        var config = SmallRun.config()
        config.discount = 0
        config.eta = 0
        config.criticLearningRate = 3e-3
        let trainer = try Trainer(config: config)
        let data = SmallRun.data(count: 16)
        let first = try trainer.step(on: data).criticLoss
        var last = first
        for _ in 0..<400 { last = try trainer.step(on: data).criticLoss }
        #expect(last < 0.1 * first, "critic loss \(first) -> \(last)")
    }
}
