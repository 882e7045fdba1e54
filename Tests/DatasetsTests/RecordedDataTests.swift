import Datasets
import DiffusionQL
import Environments
import NeuralNet
import Persistence
import Testing

/// The committed behaviour policies make the data of the README's dataset tables, bit for bit: a short
/// collection of each kind (seed 0, as `collect` makes them) is pinned by its checksum, for each
/// arithmetic of the products it was recorded on (`DenseProducts.arithmetic`). A change that moves any
/// bit of the policies' actions, the physics or the random streams fails here; when that is meant,
/// remake the tables (`collect`, and `collect picture` for AntMaze) and pin the new checksums.
@Suite(.enabled(if: RecordedData.arithmetics.contains(DenseProducts.arithmetic),
                "no data was recorded with this machine's arithmetic, \(DenseProducts.arithmetic)"))
struct RecordedDataTests {
    let models: ModelDirectory

    init() throws {
        models = try ModelDirectory.locate()
    }

    func expectRecorded(_ data: D4RLDataset, _ name: String) throws {
        let made = try data.transitions().checksum
        let pinned = try #require(RecordedData.checksums[name]?[DenseProducts.arithmetic])
        #expect(made == pinned, "\(name) on \(DenseProducts.arithmetic): checksum \(String(made, radix: 16))")
    }

    @Test(arguments: [(EnvironmentID.hopper, "medium"), (.walker2d, "expert"), (.halfcheetah, "medium")])
    func theCommittedSACPoliciesMakeTheRecordedData(environment: EnvironmentID, level: String) throws {
        let folder = try #require(RunsFolder.find("sac-\(environment.rawValue)"), "no checkpoints/sac-\(environment.rawValue)")
        let data = try BehaviourDatasets(environment: environment, models: models, runFolder: folder)
            .make(level: level, transitions: 2_000, seed: 0)
        try expectRecorded(data, "\(environment.rawValue)-\(level)")
    }

    @Test func theCommittedControllerMakesTheRecordedAntMazeData() throws {
        let controller = try #require(RunsFolder.find(AntMazeDatasets.defaultControllerFolder), "no checkpoints/ant-controller")
        let data = try AntMazeDatasets.make(maze: .umaze, level: .umaze, transitions: 1_000, seed: 0,
                                            controllerFolder: controller, models: models, threads: 2)
        try expectRecorded(data, "antmaze-umaze")
    }
}

enum RecordedData {
    /// The arithmetics with recorded data.
    static var arithmetics: Set<String> { Set(checksums.values.flatMap(\.keys)) }

    /// Checksums (`Transitions.checksum`) of the collections, by arithmetic.
    static let checksums: [String: [String: UInt64]] = [
        "hopper-medium": ["libxsmm AVX-512": 0x613f_049a_faa5_6c98, "libxsmm AVX2": 0x613f_049a_faa5_6c98,
                          "portable": 0x613f_049a_faa5_6c98],
        "walker2d-expert": ["libxsmm AVX-512": 0x4cec_fc6e_1e18_cc54, "libxsmm AVX2": 0x4cec_fc6e_1e18_cc54,
                            "portable": 0xe19c_a556_5030_1be3],
        "halfcheetah-medium": ["libxsmm AVX-512": 0x7733_20e5_31f5_d85f, "libxsmm AVX2": 0x7733_20e5_31f5_d85f,
                               "portable": 0x4b17_30c8_9c4e_3295],
        "antmaze-umaze": ["libxsmm AVX-512": 0x092a_bd07_1f57_b2d6, "libxsmm AVX2": 0x5729_2bc0_5e77_121c,
                          "portable": 0x5729_2bc0_5e77_121c],
    ]
}
