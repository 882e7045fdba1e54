import Foundation
import MuJoCo
import Testing

@Suite struct SimulationTests {
    @Test func freshSimulationStartsAtTheReferenceState() throws {
        let model = try TestModels.load("hopper.xml")
        let simulation = try Simulation(model: model)
        #expect(Array(simulation.qpos) == model.qpos0)
        #expect(Array(simulation.qvel) == Array(repeating: 0, count: 6))
        #expect(Array(simulation.ctrl) == Array(repeating: 0, count: 3))
        #expect(simulation.time == 0)
    }

    @Test func stepAdvancesTimeByTheTimestepUnderGravity() throws {
        let simulation = try TestModels.simulation(TestModels.freeFall)
        let dt = simulation.model.timestep
        #expect(dt == 0.01)
        #expect(simulation.qpos.count == 7 && simulation.qvel.count == 6)
        for n in 1...50 {
            let warnings = simulation.step()
            #expect(warnings.isEmpty, "step \(n): \(warnings)")
            #expect(abs(simulation.time - Double(n) * dt) < 1e-12)
        }
        // Semi-implicit Euler: v_n = -g n dt and z_n = z_0 - g dt^2 n (n + 1) / 2, with no drift in x, y.
        let g = 9.81, n = 50.0
        #expect(abs(simulation.qvel[2] - -g * n * dt) < 1e-9)
        #expect(abs(simulation.qpos[2] - (10 - g * dt * dt * n * (n + 1) / 2)) < 1e-9)
        #expect(simulation.qpos[0] == 0 && simulation.qpos[1] == 0)
        #expect(abs(simulation.qacc[2] - -g) < 1e-9)
    }

    @Test func forwardComputesAccelerationWithoutAdvancingTime() throws {
        let simulation = try TestModels.simulation(TestModels.freeFall)
        let warnings = simulation.forward()
        #expect(warnings.isEmpty)
        #expect(simulation.time == 0)
        #expect(simulation.qpos[2] == 10)
        #expect(abs(simulation.qacc[2] - -9.81) < 1e-9)
    }

    @Test func viewsReadAndWriteTheState() throws {
        let simulation = try TestModels.simulation(TestModels.slider)
        simulation.qpos[1] = 0.25
        simulation.qvel[0] = -1.5
        simulation.ctrl[0] = 0.75
        #expect(Array(simulation.qpos) == [0, 0.25])
        #expect(Array(simulation.qvel) == [-1.5, 0])
        #expect(Array(simulation.ctrl) == [0.75])
        // A second view of the same field sees the writes of the first.
        let qpos = simulation.qpos
        qpos[0] = 3
        #expect(simulation.qpos[0] == 3)

        var copied = [Double](repeating: .nan, count: 2)
        copied.withUnsafeMutableBufferPointer { simulation.qpos.copy(to: $0) }
        #expect(copied == [3, 0.25])
    }

    @Test func controlsPushTheCart() throws {
        let simulation = try TestModels.simulation(TestModels.slider)
        simulation.ctrl[0] = 1
        for _ in 0..<20 { simulation.step() }
        #expect(simulation.qvel[0] > 0)
        #expect(simulation.qpos[0] > 0)
    }

    @Test func aViewKeepsItsSimulationAlive() throws {
        weak var weakSimulation: Simulation?
        var view: StateVector? = try Self.makeView { weakSimulation = $0 }
        #expect(weakSimulation != nil, "the view must hold its simulation")
        #expect(view?[0] == 1.5)
        #expect(view?[1] == -0.5)
        view?[1] = 4
        #expect(view.map(Array.init) == [1.5, 4])
        view = nil
        #expect(weakSimulation == nil, "the simulation must be freed with its last view")
    }

    /// Builds a simulation, writes into it and returns only a view of its qpos; `observe` gets the
    /// simulation for a weak reference.
    private static func makeView(observe: (Simulation) -> Void) throws -> StateVector {
        let simulation = try TestModels.simulation(TestModels.slider)
        try simulation.qpos.assign(checked: [1.5, -0.5], field: "qpos")
        observe(simulation)
        return simulation.qpos
    }

    @Test func checkedAssignRejectsWrongLengthAndNonFiniteValues() throws {
        let simulation = try TestModels.simulation(TestModels.slider)
        let qvel = simulation.qvel
        #expect(throws: MuJoCoError.sizeMismatch(field: "qvel", expected: 2, actual: 3)) {
            try qvel.assign(checked: [1, 2, 3], field: "qvel")
        }
        let error = try #require(throws: MuJoCoError.self) { try qvel.assign(checked: [7, .nan], field: "qvel") }
        guard case let .nonFiniteValue(field, index, value) = error else {
            Issue.record("expected nonFiniteValue, got \(error)")
            return
        }
        #expect(field == "qvel" && index == 1 && value.isNaN)
        #expect(error.description.contains("qvel[1]"))
        #expect(throws: MuJoCoError.nonFiniteValue(field: "ctrl", index: 0, value: -.infinity)) {
            try simulation.ctrl.assign(checked: [-.infinity], field: "ctrl")
        }
        #expect(Array(qvel) == [0, 0], "a rejected assignment must leave the state as it was")
        try qvel.assign(checked: [7, 8], field: "qvel")
        #expect(Array(qvel) == [7, 8])
    }

    @Test func errorDescriptionsNameTheField() {
        let size = MuJoCoError.sizeMismatch(field: "qpos", expected: 6, actual: 5).description
        #expect(size.contains("qpos") && size.contains("6") && size.contains("5"))
    }

    /// Steps `count` times and returns every qpos and qvel visited.
    private static func trajectory(_ simulation: Simulation, steps count: Int) -> [[Double]] {
        (0..<count).map { _ in
            simulation.step()
            return Array(simulation.qpos) + Array(simulation.qvel)
        }
    }

    @Test func setStateMakesTheSameStateRepeatable() throws {
        let simulation = try Simulation(model: TestModels.load("hopper.xml"))
        let qpos = [0.1, 1.3, 0.05, -0.2, -0.3, 0.1], qvel = [0.5, -0.2, 0.3, 1, -1, 0.4]
        try simulation.setState(qpos: qpos, qvel: qvel)
        #expect(Array(simulation.qpos) == qpos && Array(simulation.qvel) == qvel && simulation.time == 0)
        let first = Self.trajectory(simulation, steps: 100)

        simulation.ctrl[0] = 0.9
        _ = Self.trajectory(simulation, steps: 37)
        try simulation.setState(qpos: qpos, qvel: qvel)
        #expect(simulation.time == 0)
        #expect(Array(simulation.ctrl) == [0, 0, 0], "setState must clear the controls")
        #expect(Self.trajectory(simulation, steps: 100) == first)
        #expect(first.last != first.first, "the state must move")
    }

    @Test func setStateRejectsBadStatesBeforeTouchingTheSimulation() throws {
        let simulation = try Simulation(model: TestModels.load("hopper.xml"))
        simulation.qpos[0] = 0.25
        #expect(throws: MuJoCoError.sizeMismatch(field: "qpos", expected: 6, actual: 5)) {
            try simulation.setState(qpos: [0, 1.25, 0, 0, 0], qvel: [0, 0, 0, 0, 0, 0])
        }
        #expect(throws: MuJoCoError.sizeMismatch(field: "qvel", expected: 6, actual: 7)) {
            try simulation.setState(qpos: [0, 1.25, 0, 0, 0, 0], qvel: [0, 0, 0, 0, 0, 0, 0])
        }
        #expect(throws: MuJoCoError.nonFiniteValue(field: "qvel", index: 3, value: .infinity)) {
            try simulation.setState(qpos: [0, 1.25, 0, 0, 0, 0], qvel: [0, 0, 0, .infinity, 0, 0])
        }
        #expect(simulation.qpos[0] == 0.25)
    }

    @Test func resetRestoresTheReferenceState() throws {
        let simulation = try TestModels.simulation(TestModels.slider)
        simulation.ctrl[0] = 1
        for _ in 0..<10 { simulation.step() }
        simulation.reset()
        #expect(Array(simulation.qpos) == [0, 0])
        #expect(Array(simulation.qvel) == [0, 0])
        #expect(Array(simulation.ctrl) == [0])
        #expect(simulation.time == 0)
    }

    @Test func hugeVelocityIsReportedAsAnInstability() throws {
        let simulation = try TestModels.simulation(TestModels.slider)
        #expect(simulation.step().isEmpty, "a normal step raises no warnings")
        simulation.qvel[1] = 1e30
        let warnings = simulation.step()
        #expect(warnings.isUnstable)
        #expect(warnings.contains(.badQvel))
        #expect(warnings.raised.first { $0.kind == .badQvel }?.index == 1, "MuJoCo reports the DOF")
        #expect(warnings.description.contains("qvel"))
        #expect(Array(simulation.qvel) == [0, 0], "MuJoCo resets a diverged state")
        #expect(simulation.step().isEmpty, "warnings are cleared at the next step")
    }

    @Test func nonFiniteControlIsReportedAsAnInstability() throws {
        let simulation = try TestModels.simulation(TestModels.slider)
        simulation.ctrl[0] = .nan
        let warnings = simulation.step()
        #expect(warnings.isUnstable)
        #expect(warnings.contains(.badCtrl))
    }

    @Test func warningsCompareByKindAndIndex() {
        #expect(PhysicsWarnings() == PhysicsWarnings())
        #expect(PhysicsWarnings().isEmpty && !PhysicsWarnings().isUnstable)
        #expect(PhysicsWarnings.Kind.instabilities == [.badQpos, .badQvel, .badQacc, .badCtrl])
    }

    @Test func simulationsOfOneModelAreIndependent() throws {
        let model = try PhysicsModel(xml: TestModels.slider)
        let pushed = try Simulation(model: model), idle = try Simulation(model: model)
        pushed.ctrl[0] = 1
        for _ in 0..<10 {
            pushed.step()
            idle.step()
        }
        #expect(pushed.qpos[0] > 0)
        #expect(idle.qpos[0] == 0)
        #expect(pushed.time == idle.time)
    }
}

@Suite struct MemoryTests {
    static let growthLabel = "resident growth in bytes: "

    /// Resident set size in bytes, from /proc/self/statm (Linux).
    static func residentBytes() throws -> Int {
        let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { throw CocoaError(.fileReadCorruptFile) }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func createAndDestroy(_ count: Int, model: PhysicsModel) throws {
        for _ in 0..<count {
            let simulation = try Simulation(model: model)
            simulation.step()
        }
    }

    /// How much the process grows over `count` simulations made and dropped, after a warm-up.
    static func residentGrowth(overSimulations count: Int) throws -> Int {
        let model = try TestModels.load("hopper.xml")
        try createAndDestroy(200, model: model)
        let before = try residentBytes()
        try createAndDestroy(count, model: model)
        return try residentBytes() - before
    }

    /// A leaked hopper simulation keeps MuJoCo's whole arena (megabytes), so 2,000 leaks would grow the
    /// process by gigabytes. Measured in a child process, where no other test allocates at the same time.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/statm")))
    func simulationsAreFreed() async throws {
        let result = try #require(await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let growth = try MemoryTests.residentGrowth(overSimulations: 2_000)
            print(MemoryTests.growthLabel + String(growth))
        })
        let output = String(decoding: result.standardOutputContent, as: UTF8.self)
        let line = output.split(separator: "\n").last { $0.hasPrefix(Self.growthLabel) }
        let growth = try #require(line.flatMap { Int($0.dropFirst(Self.growthLabel.count)) }, "child printed: \(output)")
        #expect(growth < 4 << 20, "resident memory grew by \(growth) bytes over 2,000 simulations")
    }

    @Test func modelsAreFreedWithTheirLastSimulation() throws {
        weak var weakModel: PhysicsModel?
        var simulation: Simulation? = try {
            let model = try PhysicsModel(xml: TestModels.slider)
            weakModel = model
            return try Simulation(model: model)
        }()
        #expect(weakModel != nil, "a simulation keeps its model")
        #expect(simulation?.model.nq == 2)
        simulation = nil
        #expect(weakModel == nil)
    }
}
