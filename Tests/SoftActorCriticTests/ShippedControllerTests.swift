import Environments
import Foundation
import Persistence
import SoftActorCritic
import Testing

/// The controller committed in checkpoints/ant-controller, steered by the planner through a maze it
/// never trained in: what the AntMaze datasets are made with.
@Suite struct ShippedControllerTests {
    @Test func steeredAlongThePlannedPathItReachesTheUmazeGoal() throws {
        let folder = try #require(RunsFolder.find("ant-controller"), "no checkpoints/ant-controller")
        let (policy, _) = try PolicyFile.read(folder + "/controller_policy.safetensors", environment: AntControllerRun.environmentName,
                                              observationDimension: ControllerObservation.dimension,
                                              actionDimension: AntMazeEnvironment.nu, capacity: 1)
        let maze = Maze.umaze
        let environment = try AntMazeEnvironment(maze: maze, goalNoise: .everyReset, maxEpisodeSteps: 700,
                                                 models: try ModelDirectory.locate())
        var observation = [Double](repeating: 0, count: ControllerObservation.dimension)
        var input = [Float](repeating: 0, count: ControllerObservation.dimension), action = [Float](repeating: 0, count: 8)
        var successes = 0
        for seed in 0..<5 as Range<UInt64> {
            environment.reset(seed: seed)
            let planner = try MazePlanner(maze: maze, goal: environment.goal)
            while true {
                let qpos = environment.simulation.qpos, qvel = environment.simulation.qvel
                let waypoint = try planner.waypoint(from: PlanarPosition(x: qpos[0], y: qpos[1]))
                observation.withUnsafeMutableBufferPointer {
                    ControllerObservation.write(qpos: Array(qpos), qvel: Array(qvel), goal: waypoint, into: $0)
                }
                input = observation.map(Float.init)
                policy.meanActions(states: input, rows: 1, into: &action)
                let outcome = try environment.step(action.map(Double.init))
                if outcome.terminated { successes += 1 }
                if outcome.terminated || outcome.truncated { break }
            }
        }
        #expect(successes >= 4, "\(successes) of 5 episodes reached the umaze goal")
    }
}
