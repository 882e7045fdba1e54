import Datasets
import Environments
import Foundation
import Persistence
import SoftActorCritic
import Testing

/// AntMaze data made with the shipped controller: the same bytes from the same seed at any thread
/// count, episodes of 1001 steps, rewards and terminals relabelled against the evaluation goal.
@Suite struct AntMazeDataTests {
    let models: ModelDirectory
    let controller: String

    init() throws {
        models = try ModelDirectory.locate()
        controller = try #require(RunsFolder.find(AntMazeDatasets.defaultControllerFolder), "no checkpoints/ant-controller")
    }

    func make(_ maze: Maze, _ level: AntMazeLevel, rows: Int = 2_300, seed: UInt64 = 1, threads: Int) throws -> D4RLDataset {
        try AntMazeDatasets.make(maze: maze, level: level, transitions: rows, seed: seed, controllerFolder: controller,
                                 models: models, threads: threads)
    }

    @Test func theSameSeedMakesTheSameDataAtAnyThreadCount() throws {
        let one = try make(.medium, .play, threads: 1)
        #expect(try make(.medium, .play, threads: 2) == one)
        #expect(try make(.medium, .play, seed: 2, threads: 2) != one)
    }

    @Test func episodesLast1001StepsAndRewardsMarkTheEvaluationGoal() throws {
        let data = try make(.umaze, .umaze, threads: 2)
        #expect(data.rows == 2_300 && data.observationDimension == 29 && data.actionDimension == 8)
        // 16 copies ran side by side; the first two episodes kept are whole, the third is cut at 2,300 rows
        // (its last row a time cut, unless the ant is at the goal there).
        let cuts = data.timeouts!.indices.filter { data.timeouts![$0] }
        #expect(cuts == [1000, 2001, 2299] || cuts == [1000, 2001] && data.terminals[2299], "\(cuts)")
        let coordinates = try #require(data.metadata["evaluation_goal"]).split(separator: ",").compactMap { Double($0) }
        let goal = PlanarPosition(x: coordinates[0], y: coordinates[1])
        let centre = Maze.umaze.centre(of: Maze.umaze.goal)
        #expect((0...1.5).contains(goal.x - centre.x) && (0...1.5).contains(goal.y - centre.y), "\(goal)")
        #expect(data.rewards.map { $0 == 1 } == data.terminals && data.rewards.allSatisfy { $0 == 0 || $0 == 1 })
        var rewarded = 0
        for row in 0..<data.rows {
            let next = data.nextObservations![row * 29 ..< row * 29 + 2]
            let within = PlanarPosition(x: Double(next[next.startIndex]), y: Double(next[next.startIndex + 1])).distance(to: goal) <= 0.5
            #expect(within == (data.rewards[row] == 1), "row \(row)")
            rewarded += within ? 1 : 0
        }
        #expect(rewarded > 0, "the umaze data never reached its goal")
        // The umaze data sends the ant to the evaluation goal; infos hold it and the state before each action.
        let goals = try #require(data.infos["goal"])
        #expect(goals.width == 2 && Set(goals.values) == [Float(goal.x), Float(goal.y)])
        #expect(data.infos["qpos"]?.width == 15 && data.infos["qvel"]?.width == 14)
        #expect(Array(data.infos["qpos"]!.values[0..<15]) == Array(data.observations[0..<15]))
        #expect(DatasetSummary(data, task: try D4RLTask.named("antmaze-umaze-v0")).successRate != nil)
        // The controller is named the same wherever the checkout lives, so the bytes are too.
        #expect(data.metadata["policy"] == "ant-controller/controller_policy.safetensors")
    }

    /// The picture draws one path per episode over the walls and marks the goal its metadata names.
    @Test func thePictureShowsEachEpisodeAndTheGoalOfTheMetadata() throws {
        let data = try make(.umaze, .diverse, rows: 1_500, threads: 2)
        let (maze, goal) = try AntMazeDatasets.mazeAndGoal(of: data, path: "x.hdf5")
        let drawn = try AntMazeCollector(maze: .umaze, level: .diverse, models: models).evaluationGoal(seed: 1)
        #expect(maze == .umaze && goal.distance(to: drawn) == 0)
        let svg = AntMazePicture.svg(data, maze: maze, title: "t", subtitle: "s", evaluationGoal: goal)
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.components(separatedBy: "fill=\"#8c8c8c\"").count - 1 == maze.walls.joined().count { $0 })
        #expect(svg.contains("fill=\"#2ca02c\""))
        var foreign = data
        foreign.metadata["environment"] = "hopper"
        #expect(throws: AntMazeCollectionError.notMazeData(path: "x.hdf5", reason: "metadata/environment names no maze")) {
            try AntMazeDatasets.mazeAndGoal(of: foreign, path: "x.hdf5")
        }
    }

    @Test func onlyTheSixD4RLDatasetsAreMade() throws {
        #expect(throws: AntMazeCollectionError.noSuchDataset(maze: "umaze", level: "play")) {
            try AntMazeCollector(maze: .umaze, level: .play, models: models)
        }
        #expect(throws: AntMazeCollectionError.self) { try AntMazeCollector(maze: .large, level: .umaze, models: models) }
        let names = Maze.all.flatMap { maze in AntMazeLevel.allCases.compactMap { $0.dataset(in: maze) } }
        #expect(names == ["umaze", "umaze-diverse", "medium-play", "medium-diverse", "large-play", "large-diverse"])
    }
}
