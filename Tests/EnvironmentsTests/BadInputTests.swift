import Environments
import Foundation
import MuJoCo
import Testing

@Suite struct BadInputTests {
    static func runningHopper() throws -> LocomotionEnvironment {
        let environment = try TestSupport.environment(.hopper)
        environment.reset(seed: 0)
        return environment
    }

    @Test(arguments: [[0.0, 0.0], [0.0, 0.0, 0.0, 0.0], []])
    func wrongActionLengthIsRejected(_ action: [Double]) throws {
        let environment = try Self.runningHopper()
        let error = try #require(throws: EnvironmentError.self) { try environment.step(action) }
        #expect(error == .wrongActionLength(environment: "hopper", expected: 3, actual: action.count))
        #expect(error.description.contains("hopper") && error.description.contains("expected 3"))
        #expect(environment.elapsedSteps == 0, "a rejected action takes no step")
    }

    @Test func nanActionIsRejectedWithItsIndex() throws {
        let environment = try Self.runningHopper()
        let error = try #require(throws: EnvironmentError.self) { try environment.step([0, .nan, 0]) }
        guard case let .nonFiniteAction(name, index, value) = error else {
            Issue.record("expected nonFiniteAction, got \(error)")
            return
        }
        #expect(name == "hopper" && index == 1 && value.isNaN)
        #expect(error.description.contains("action[1]"))
        #expect(environment.simulation.time == 0, "the physics must not move")
        _ = try environment.step([0, 0, 0])
    }

    @Test(arguments: [Double.infinity, -.infinity])
    func infiniteActionIsRejectedWithItsIndex(_ value: Double) throws {
        let environment = try Self.runningHopper()
        #expect(throws: EnvironmentError.nonFiniteAction(environment: "hopper", index: 2, value: value)) {
            try environment.step([0, 0, value])
        }
    }

    @Test func misspelledTaskSuggestsTheClosestName() throws {
        let error = try #require(throws: EnvironmentError.self) { try D4RLTask.named("hopper-medum-v2") }
        let valid = D4RLTask.all.map(\.name)
        #expect(error == .unknownTask(name: "hopper-medum-v2", suggestion: "hopper-medium-v2", valid: valid))
        #expect(error.description.contains("Did you mean hopper-medium-v2?"))
        #expect(error.description.contains("walker2d-expert-v2"), "the message lists the valid names")
    }

    @Test func unrelatedTaskNameHasNoSuggestion() throws {
        let error = try #require(throws: EnvironmentError.self) { try D4RLTask.named("pendulum") }
        guard case let .unknownTask(name, suggestion, valid) = error else {
            Issue.record("expected unknownTask, got \(error)")
            return
        }
        #expect(name == "pendulum" && suggestion == nil && valid.count == D4RLTask.all.count)
    }

    @Test func missingModelsFolderIsAnError() throws {
        let error = try #require(throws: EnvironmentError.self) { try ModelDirectory.locate(override: "/nonexistent") }
        #expect(error == .modelsDirectoryNotFound(searched: ["/nonexistent"]))
        #expect(error.description.contains("/nonexistent"))
        #expect(error.description.contains(ModelDirectory.environmentVariable))
    }

    @Test func folderWithoutTheModelsIsNotAModelsFolder() throws {
        try TestSupport.withTemporaryFolder { folder in
            #expect(throws: EnvironmentError.modelsDirectoryNotFound(searched: [folder.path])) {
                try ModelDirectory.locate(override: folder.path)
            }
        }
    }

    @Test func locateFindsTheCheckoutsModels() throws {
        let models = try ModelDirectory.locate()
        for spec in [LocomotionSpec.hopper, .walker2d, .halfCheetah] {
            #expect(FileManager.default.fileExists(atPath: models.file(spec.modelFile)), "\(spec.modelFile)")
        }
        #expect(try ModelDirectory.locate(override: models.path) == models)
    }

    @Test func brokenModelFileIsReportedWithItsPath() throws {
        try TestSupport.withTemporaryFolder { folder in
            let path = try TestSupport.write("<mujoco><worldbody><body>", as: "hopper.xml", in: folder)
            let error = try #require(throws: MuJoCoError.self) {
                try LocomotionEnvironment(.hopper, models: ModelDirectory(path: folder.path))
            }
            guard case let .modelLoadFailed(source, message) = error else {
                Issue.record("expected modelLoadFailed, got \(error)")
                return
            }
            #expect(source == path)
            #expect(!message.isEmpty)
            #expect(error.description.contains(path))
        }
    }

    @Test func missingModelFileIsReportedWithItsPath() throws {
        try TestSupport.withTemporaryFolder { folder in
            let models = ModelDirectory(path: folder.path)
            #expect(throws: MuJoCoError.modelFileNotFound(path: models.file("half_cheetah.xml"))) {
                try EnvironmentID.halfcheetah.makeEnvironment(models: models)
            }
        }
    }

    @Test func modelOfAnotherRobotIsRejected() throws {
        let walker = try String(contentsOfFile: TestSupport.models().file("walker2d.xml"), encoding: .utf8)
        try TestSupport.withTemporaryFolder { folder in
            let path = try TestSupport.write(walker, as: "hopper.xml", in: folder)
            let error = try #require(throws: EnvironmentError.self) {
                try LocomotionEnvironment(.hopper, models: ModelDirectory(path: folder.path))
            }
            #expect(error == .modelDoesNotMatch(file: path, field: "nq", expected: 6, actual: 9))
            #expect(error.description.contains(path) && error.description.contains("nq"))
        }
    }

    @Test func setStateRejectsWrongLengths() throws {
        let environment = try TestSupport.environment(.walker2d)
        let qpos0 = environment.simulation.model.qpos0
        #expect(throws: MuJoCoError.sizeMismatch(field: "qpos", expected: 9, actual: 6)) {
            try environment.setState(qpos: Array(qpos0.prefix(6)), qvel: TestSupport.zeros(9))
        }
        #expect(throws: MuJoCoError.sizeMismatch(field: "qvel", expected: 9, actual: 10)) {
            try environment.setState(qpos: qpos0, qvel: TestSupport.zeros(10))
        }
    }

    @Test func setStateRejectsNaN() throws {
        let environment = try TestSupport.environment(.hopper)
        var qpos = environment.simulation.model.qpos0
        qpos[4] = .nan
        let error = try #require(throws: MuJoCoError.self) {
            try environment.setState(qpos: qpos, qvel: TestSupport.zeros(6))
        }
        guard case let .nonFiniteValue(field, index, _) = error else {
            Issue.record("expected nonFiniteValue, got \(error)")
            return
        }
        #expect(field == "qpos" && index == 4)
        #expect(error.description.contains("qpos[4]"))
        #expect(throws: EnvironmentError.stepBeforeReset(environment: "hopper"), "a rejected state starts no episode") {
            try environment.step([0, 0, 0])
        }
    }
}
