import Environments
import Testing

@Suite struct RegistryTests {
    static let datasets = ["random", "medium", "medium-replay", "medium-expert", "expert", "full-replay"]

    @Test(arguments: EnvironmentID.locomotion)
    func everyDatasetOfEveryFamilyResolves(_ environment: EnvironmentID) throws {
        for dataset in Self.datasets {
            let name = "\(environment.rawValue)-\(dataset)-v2"
            let task = try D4RLTask.named(name)
            #expect(task.name == name && task.description == name)
            #expect(task.environment == environment)
            #expect(task.dataset == dataset)
        }
    }

    @Test func everyTaskIsListedOnce() {
        let names = D4RLTask.all.map(\.name)
        #expect(names.count == 18 + 12)
        #expect(Set(names).count == names.count)
    }

    @Test(arguments: [
        ("hopper", -20.272305, 3234.3),
        ("walker2d", 1.629008, 4592.3),
        ("halfcheetah", -280.178953, 12135.0),
    ])
    func normalizedScoreUsesD4RLsReferences(_ family: String, _ minimum: Double, _ maximum: Double) throws {
        for dataset in Self.datasets {
            let task = try D4RLTask.named("\(family)-\(dataset)-v2")
            #expect(task.referenceMinScore == minimum && task.referenceMaxScore == maximum)
            #expect(abs(task.normalizedScore(minimum)) < 1e-9)
            #expect(abs(task.normalizedScore(maximum) - 100) < 1e-9)
            #expect(abs(task.normalizedScore((minimum + maximum) / 2) - 50) < 1e-9)
        }
    }

    @Test func environmentsMatchTheirSpecs() {
        #expect(EnvironmentID.hopper.locomotionSpec == .hopper)
        #expect(EnvironmentID.walker2d.locomotionSpec == .walker2d)
        #expect(EnvironmentID.halfcheetah.locomotionSpec == .halfCheetah)
    }

    @Test func environmentsOfOneModelShareItButNotTheirState() throws {
        let environments = try EnvironmentID.walker2d.makeEnvironments(count: 3, models: TestSupport.models())
        #expect(environments.count == 3)
        #expect(environments.allSatisfy { $0.simulation.model === environments[0].simulation.model })
        #expect(Set(environments.map { ObjectIdentifier($0.simulation) }).count == 3)
        environments[0].reset(seed: 1)
        _ = try environments[0].step(Array(repeating: 0.5, count: 6))
        #expect(environments[1].simulation.time == 0)
    }
}
