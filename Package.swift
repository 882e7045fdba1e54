// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first; a target imports only targets of lower layers (or of its own, where named).
//   1. C modules, module maps only: CMuJoCo, CBLAS, CXSMM (libxsmm), CHDF5, CGLFW, CEGL, CPNG.
//      NumericKernels, C source: Mish, Adam and the products of its own (every shape where libxsmm is not
//      built in, the thin ones where it is), with a vector path chosen at run time (and the CPU's
//      spin-wait hint).
//   2. Leaf utilities: Parallel (the worker pool, over NumericKernels' spin-wait hint), SeededRandom (the
//      generator and every random stream's key; its deferred normals are made on Parallel's pool),
//      Persistence (atomic writes, stable JSON, resume checks), TerminalProgress (progress lines).
//   3. MuJoCo: owning model and simulation over CMuJoCo.
//   4. Environments: the Environment protocol, the locomotion tasks, the D4RL registry, the vector runner.
//   5. NeuralNet: parameters, layers with backward passes, Adam, safetensors (over CXSMM or CBLAS,
//      NumericKernels, and Parallel's pool for the parts of a pass).
//   6. RLCore: what both agents share: the twin critic and minibatches of transitions.
//   7. DiffusionQL (the paper's policy, critic training, acting rule, trainer, run folders) and
//      SoftActorCritic (the behaviour agent, its replay buffer and its online run), side by side.
//   8. Bandit (the paper's toy experiment, over DiffusionQL) and Datasets (D4RL files over CHDF5, the
//      training setup on one, collection of behaviour data from SAC policies), side by side.
//   9. Evaluation: policies as batch actors, parallel rollouts, reports, checkpoint selection.
//  10. Viewer: the live window (CGLFW) and headless recording (CEGL, CPNG) over MuJoCo's renderer.
//  11. Benchmarks, Sweeps (Slurm batch scripts for grids of training runs and sharded evaluations, over
//      Evaluation and Datasets) and CommandLineOptions, then the executables (thin front ends): rollout,
//      train, collect, conformance, bench, bandit, policy, sweep.
// No target uses unsafe build flags, so other packages can depend on this one by version.

// libxsmm's JIT kernels for the networks' small products where it exists (x86-64 Linux: Debian's
// libxsmm-dev, which tools/setup installs); NumericKernels' own products elsewhere.
#if os(Linux) && arch(x86_64)
let denseKernels: [Target.Dependency] = ["CXSMM"]
#else
let denseKernels: [Target.Dependency] = []
#endif

let package = Package(
    name: "swift-diffusion-ql",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rollout", targets: ["rollout"]),
        .executable(name: "train", targets: ["train"]),
        .executable(name: "collect", targets: ["collect"]),
        .executable(name: "bench", targets: ["bench"]),
        .executable(name: "bandit", targets: ["bandit"]),
        .executable(name: "conformance", targets: ["conformance"]),
        .executable(name: "policy", targets: ["policy"]),
        .executable(name: "sweep", targets: ["sweep"]),
        .library(name: "SeededRandom", targets: ["SeededRandom"]),
        .library(name: "Parallel", targets: ["Parallel"]),
        .library(name: "MuJoCo", targets: ["MuJoCo"]),
        .library(name: "Environments", targets: ["Environments"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "RLCore", targets: ["RLCore"]),
        .library(name: "DiffusionQL", targets: ["DiffusionQL"]),
        .library(name: "SoftActorCritic", targets: ["SoftActorCritic"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Viewer", targets: ["Viewer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CMuJoCo", path: "Sources/CMuJoCo"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CGLFW", path: "Sources/CGLFW", pkgConfig: "glfw3", providers: [.apt(["libglfw3-dev"])]),
        .systemLibrary(name: "CEGL", path: "Sources/CEGL", pkgConfig: "egl", providers: [.apt(["libegl-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CXSMM", path: "Sources/CXSMM", pkgConfig: "libxsmm", providers: [.apt(["libxsmm-dev"])]),
        .target(name: "NumericKernels"),

        .target(name: "Parallel", dependencies: ["NumericKernels"]),
        .target(name: "SeededRandom", dependencies: ["Parallel"]),
        .target(name: "Persistence"),
        .target(name: "TerminalProgress"),

        .target(name: "MuJoCo", dependencies: ["CMuJoCo"]),
        .target(name: "Environments", dependencies: ["MuJoCo", "SeededRandom", "Parallel", "Persistence"]),
        .target(name: "NeuralNet", dependencies: ["CBLAS", "NumericKernels", "SeededRandom", "Parallel", "Persistence"] + denseKernels),
        .target(name: "RLCore", dependencies: ["NeuralNet", "SeededRandom", "Parallel"]),
        .target(name: "DiffusionQL", dependencies: [
            "RLCore", "NeuralNet", "SeededRandom", "Parallel", "Persistence", "TerminalProgress",
        ]),
        .target(name: "SoftActorCritic", dependencies: [
            "RLCore", "NeuralNet", "Parallel", "Environments", "SeededRandom", "Persistence", "TerminalProgress",
        ]),
        .target(name: "Bandit", dependencies: ["DiffusionQL", "NeuralNet", "SeededRandom", "TerminalProgress"]),
        .target(name: "Datasets", dependencies: [
            "CHDF5", "DiffusionQL", "SoftActorCritic", "NeuralNet", "Environments", "SeededRandom", "Parallel",
            "Persistence", "TerminalProgress",
        ]),
        .target(name: "Evaluation", dependencies: [
            "DiffusionQL", "Datasets", "NeuralNet", "Environments", "SeededRandom", "Parallel", "Persistence", "TerminalProgress",
        ]),
        .target(name: "Viewer", dependencies: ["Evaluation", "Environments", "MuJoCo", "Persistence", "CGLFW", "CEGL", "CPNG"]),

        .target(name: "Benchmarks", dependencies: [
            "Evaluation", "Datasets", "DiffusionQL", "SoftActorCritic", "RLCore", "NeuralNet", "Environments", "MuJoCo", "CMuJoCo",
            "SeededRandom", "Parallel", "TerminalProgress",
        ]),
        .target(name: "Sweeps", dependencies: ["Evaluation", "Datasets", "Environments", "Persistence"]),
        .target(name: "CommandLineOptions", dependencies: [
            "Datasets", "Environments", "Evaluation", "NeuralNet", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "policy", dependencies: [
            "Evaluation", "Datasets", "DiffusionQL", "Persistence", "CommandLineOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "rollout", dependencies: [
            "Viewer", "Evaluation", "Environments", "CommandLineOptions", "TerminalProgress", "Persistence",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "train", dependencies: [
            "Datasets", "DiffusionQL", "Environments", "CommandLineOptions", "Persistence", "TerminalProgress",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "collect", dependencies: [
            "Datasets", "SoftActorCritic", "Environments", "CommandLineOptions", "TerminalProgress", "Persistence",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "bench", dependencies: [
            "Benchmarks", "NeuralNet", "CommandLineOptions", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "conformance", dependencies: [
            "Environments", "CommandLineOptions", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sweep", dependencies: [
            "Sweeps", "Evaluation", "CommandLineOptions", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "bandit", dependencies: [
            "Bandit", "Persistence", "CommandLineOptions", "TerminalProgress",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Finite-difference checking shared by the test targets.
        .target(name: "GradientCheck", dependencies: ["NeuralNet", "SeededRandom"], path: "Tests/GradientCheck"),
        // Child processes with a clean signal mask, for the tests that run daemons and batch scripts.
        .target(name: "CleanProcesses", path: "Tests/CleanProcesses"),
        .testTarget(name: "MuJoCoTests", dependencies: ["MuJoCo"]),
        .testTarget(name: "EnvironmentsTests", dependencies: ["Environments", "MuJoCo", "SeededRandom", "Parallel"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "NumericKernels", "SeededRandom", "GradientCheck"]),
        .testTarget(name: "RLCoreTests", dependencies: ["RLCore", "NeuralNet", "SeededRandom", "GradientCheck"]),
        .testTarget(name: "DiffusionQLTests", dependencies: ["DiffusionQL", "RLCore", "NeuralNet", "SeededRandom", "GradientCheck", "Parallel", "Persistence"]),
        .testTarget(name: "SoftActorCriticTests", dependencies: ["SoftActorCritic", "Environments", "Persistence", "RLCore", "NeuralNet", "SeededRandom", "GradientCheck"]),
        .testTarget(name: "BanditTests", dependencies: ["Bandit"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "DiffusionQL", "SoftActorCritic", "Environments", "CHDF5", "SeededRandom", "Persistence",
                                                  "NeuralNet"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "DiffusionQL", "NeuralNet", "Environments", "Datasets"]),
        .testTarget(name: "TerminalProgressTests", dependencies: ["TerminalProgress"]),
        .testTarget(name: "CommandLineTests", dependencies: ["CommandLineOptions", "NeuralNet", "Benchmarks", "CleanProcesses"]),
        .testTarget(name: "SweepsTests", dependencies: ["Sweeps", "Datasets", "Evaluation", "CleanProcesses"]),
        .testTarget(name: "ViewerTests", dependencies: ["Viewer", "Evaluation", "DiffusionQL", "Environments", "CGLFW", "CPNG"]),
    ]
)
