import Foundation
@testable import MuJoCo
import Testing

/// Compiled facts of the three locomotion models, as MuJoCo 2.2.2 compiles the benchmark's own files.
struct ModelFacts: Sendable, CustomTestStringConvertible {
    let file: String
    let nq: Int, nv: Int, nu: Int
    let timestep: Double
    let integrator: Integrator
    let qpos0: [Double]
    let totalMass: Double
    /// Compiled mass of named bodies.
    let bodyMasses: [String: Double]

    var testDescription: String { file }

    static let hopper = ModelFacts(
        file: "hopper.xml", nq: 6, nv: 6, nu: 3, timestep: 0.002, integrator: .rk4,
        qpos0: [0, 1.25, 0, 0, 0, 0], totalMass: 15.820013,
        bodyMasses: ["torso": 3.665191, "thigh": 4.057891, "leg": 2.781357, "foot": 5.315575])
    static let walker2d = ModelFacts(
        file: "walker2d.xml", nq: 9, nv: 9, nu: 6, timestep: 0.002, integrator: .rk4,
        qpos0: [0, 1.25] + Array(repeating: 0, count: 7), totalMass: 23.677137,
        bodyMasses: [
            "torso": 3.665191, "thigh": 4.057891, "leg": 2.781357, "foot": 3.166725,
            "thigh_left": 4.057891, "leg_left": 2.781357, "foot_left": 3.166725,
        ])
    static let halfCheetah = ModelFacts(
        file: "half_cheetah.xml", nq: 9, nv: 9, nu: 6, timestep: 0.01, integrator: .euler,
        qpos0: Array(repeating: 0, count: 9), totalMass: 14, bodyMasses: [:])

    static let all = [hopper, walker2d, halfCheetah]
}

@Suite struct ModelLoadingTests {
    @Test(arguments: ModelFacts.all)
    func compiledModelMatchesTheSpec(_ facts: ModelFacts) throws {
        let model = try TestModels.load(facts.file)
        #expect(model.nq == facts.nq)
        #expect(model.nv == facts.nv)
        #expect(model.nu == facts.nu)
        #expect(model.timestep == facts.timestep)
        #expect(model.integrator == facts.integrator)
        #expect(model.qpos0 == facts.qpos0)
        #expect(abs(model.totalMass - facts.totalMass) < 1e-5, "total mass \(model.totalMass)")
        #expect(abs(model.bodyMasses.reduce(0, +) - facts.totalMass) < 1e-5)
        for (body, mass) in facts.bodyMasses {
            let id = try #require(model.id(of: .body, named: body), "no body \(body)")
            #expect(abs(model.bodyMasses[id] - mass) < 1e-5, "\(body) weighs \(model.bodyMasses[id])")
        }
    }

    @Test(arguments: ModelFacts.all)
    func everyActuatorIsLimitedToUnitControls(_ facts: ModelFacts) throws {
        let model = try TestModels.load(facts.file)
        #expect(model.controlRanges == Array(repeating: Optional(-1.0...1.0), count: facts.nu))
    }

    @Test func sourceNamesTheFileOrTheGivenName() throws {
        let path = TestModels.path("hopper.xml")
        #expect(try PhysicsModel(contentsOf: path).source == path)
        #expect(try PhysicsModel(xml: TestModels.slider, name: "slider.xml").source == "slider.xml")
    }

    @Test func loadsAnMJCFString() throws {
        let model = try PhysicsModel(xml: TestModels.slider)
        #expect(model.nq == 2)
        #expect(model.nv == 2)
        #expect(model.nu == 1)
        #expect(model.nbody == 3)
        #expect(model.ngeom == 3)
        #expect(model.timestep == 0.005)
        #expect(model.integrator == .euler)
        #expect(abs(model.totalMass - 2.5) < 1e-12)
        #expect(model.controlRanges == [-1.0...1.0])
        #expect(model.id(of: .joint, named: "hinge") == 1)
        #expect(model.id(of: .actuator, named: "push") == 0)
        #expect(model.id(of: .body, named: "no such body") == nil)
    }

    @Test func aStringAndTheSameFileCompileAlike() throws {
        let path = TestModels.path("half_cheetah.xml")
        let fromFile = try PhysicsModel(contentsOf: path)
        let fromString = try PhysicsModel(xml: String(contentsOfFile: path, encoding: .utf8))
        #expect(fromString.bodyMasses == fromFile.bodyMasses)
        #expect(fromString.qpos0 == fromFile.qpos0)
        #expect(fromString.ngeom == fromFile.ngeom)
    }

    @Test func malformedXMLThrowsMuJoCosMessage() throws {
        let error = try #require(throws: MuJoCoError.self) {
            try PhysicsModel(xml: "<mujoco><worldbody><body></worldbody>", name: "broken.xml")
        }
        guard case let .modelLoadFailed(source, message) = error else {
            Issue.record("expected modelLoadFailed, got \(error)")
            return
        }
        #expect(source == "broken.xml")
        #expect(message.contains("XML"), "MuJoCo's message: \(message)")
        #expect(error.description.contains("broken.xml"))
        #expect(error.description.contains(message))
    }

    @Test func invalidMJCFThrowsMuJoCosMessage() throws {
        let xml = "<mujoco><worldbody><body><geom type=\"sphere\" size=\"-1\"/><unknownthing/></body></worldbody></mujoco>"
        let error = try #require(throws: MuJoCoError.self) { try PhysicsModel(xml: xml, name: "schema.xml") }
        guard case let .modelLoadFailed(source, message) = error else {
            Issue.record("expected modelLoadFailed, got \(error)")
            return
        }
        #expect(source == "schema.xml")
        #expect(message.contains("unknownthing"), "MuJoCo's message: \(message)")
    }

    /// An empty MJCF string must be an error, not the end of the process (MuJoCo itself treats an
    /// empty in-memory file as fatal). Run in a child process so that a regression cannot take the
    /// test runner down with it.
    @Test func emptyMJCFStringThrows() async {
        await #expect(processExitsWith: .success) {
            do {
                _ = try PhysicsModel(xml: "", name: "empty.xml")
                exit(2)
            } catch MuJoCoError.modelLoadFailed(source: "empty.xml", message: _) {
                exit(0)
            } catch {
                exit(3)
            }
        }
    }

    @Test func missingFileThrowsItsPath() {
        let path = "/nonexistent/folder/hopper.xml"
        #expect(throws: MuJoCoError.modelFileNotFound(path: path)) { try PhysicsModel(contentsOf: path) }
        #expect(MuJoCoError.modelFileNotFound(path: path).description.contains(path))
    }

    @Test func linksMuJoCo222() {
        #expect(mujocoVersion == "2.2.2")
    }

    @Test func aLibraryOfAnotherVersionThanTheHeadersIsRefused() throws {
        try PhysicsModel.checkLibraryVersion()
        let mismatch = MuJoCoError.libraryVersionMismatch(headers: 222, library: 231)
        #expect(throws: mismatch) { try PhysicsModel.checkLibraryVersion(headers: 222, library: 231) }
        #expect(mismatch.description.contains("version 2.3.1"))
        #expect(mismatch.description.contains("headers of 2.2.2"))
    }
}
