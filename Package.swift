// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first; a target depends only on targets above it in this list.
//   CMuJoCo (module map) -> MuJoCo (owning wrapper) -> Environments -> NeuralNet (over CBLAS)
//   -> DiffusionQL -> SoftActorCritic (the behaviour agent) -> Datasets (D4RL HDF5 files over CHDF5,
//   SAC runs and dataset collection) -> Evaluation -> Viewer (live window over CGLFW, headless recording
//   over CEGL and CPNG, MuJoCo's renderer) -> executables
//   SeededRandom, Parallel and AtomicFile are leaf utilities shared by every layer above the C modules;
//   CommandLineOptions holds the options the executables share.
// The numeric targets are optimized in every configuration: a debug `swift run` or `swift test` then
// trains and acts at nearly release speed instead of 13 times slower, and the rest of the package
// stays debuggable. Their element-wise loops (Mish, Adam, the sampling chain) vectorize to the width
// the compiler may assume: on x86-64, AVX2 (Haswell's set, in every x86 laptop CPU since 2015) rather
// than the SSE2 baseline. Swift does not contract a * b + c into FMA, and these loops reduce nothing
// across lanes, so results are bitwise the same at either width.
#if arch(x86_64)
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-O"], .when(configuration: .debug)), .unsafeFlags(["-target-cpu", "haswell"]),
]
#else
let numericSettings: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
#endif

let package = Package(
    name: "swift-diffusion-ql",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rollout", targets: ["rollout"]),
        .executable(name: "bench", targets: ["bench"]),
        .executable(name: "bandit", targets: ["bandit"]),
        .executable(name: "train", targets: ["train"]),
        .executable(name: "collect", targets: ["collect"]),
        .library(name: "Environments", targets: ["Environments"]),
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
        .target(name: "SeededRandom", swiftSettings: numericSettings),
        .target(name: "Parallel"),
        .target(name: "AtomicFile"),
        .target(name: "MuJoCo", dependencies: ["CMuJoCo"]),
        .target(name: "Environments", dependencies: ["MuJoCo", "SeededRandom", "Parallel"]),
        .target(name: "NeuralNet", dependencies: ["CBLAS", "SeededRandom", "AtomicFile"], swiftSettings: numericSettings),
        .target(name: "DiffusionQL", dependencies: ["NeuralNet", "SeededRandom", "AtomicFile", "Parallel"], swiftSettings: numericSettings),
        .target(name: "SoftActorCritic", dependencies: ["DiffusionQL", "NeuralNet", "SeededRandom"], swiftSettings: numericSettings),
        .target(name: "Bandit", dependencies: ["DiffusionQL", "NeuralNet", "SeededRandom"]),
        .target(name: "Datasets", dependencies: [
            "CHDF5", "DiffusionQL", "SoftActorCritic", "NeuralNet", "Environments", "SeededRandom", "Parallel", "AtomicFile",
        ]),
        .target(name: "Evaluation", dependencies: ["Environments", "DiffusionQL", "Datasets", "SeededRandom", "AtomicFile", "Parallel"]),
        .target(name: "Viewer", dependencies: ["MuJoCo", "Environments", "Evaluation", "AtomicFile", "CGLFW", "CEGL", "CPNG"]),
        .target(name: "Benchmarks", dependencies: [
            "Environments", "Evaluation", "MuJoCo", "Parallel", "NeuralNet", "DiffusionQL", "Datasets", "SeededRandom",
        ]),
        .target(name: "CommandLineOptions", dependencies: [
            "Environments",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "rollout", dependencies: [
            "Evaluation", "Environments", "Viewer", "CommandLineOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "bench", dependencies: [
            "Benchmarks", "CommandLineOptions", "NeuralNet",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "bandit", dependencies: [
            "Bandit", "AtomicFile", "Evaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "collect", dependencies: [
            "Datasets", "Environments", "Evaluation", "CommandLineOptions", "SoftActorCritic",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "train", dependencies: [
            "Datasets", "DiffusionQL", "Environments", "Evaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "MuJoCoTests", dependencies: ["MuJoCo"]),
        .testTarget(name: "EnvironmentsTests", dependencies: ["Environments", "MuJoCo", "SeededRandom", "Parallel"]),
        // Finite-difference checking shared by the test targets.
        .target(name: "GradientCheck", dependencies: ["SeededRandom"], path: "Tests/GradientCheck"),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "SeededRandom", "GradientCheck"]),
        .testTarget(name: "DiffusionQLTests", dependencies: ["DiffusionQL", "NeuralNet", "SeededRandom", "GradientCheck", "Parallel"]),
        .testTarget(name: "SoftActorCriticTests", dependencies: ["SoftActorCritic", "NeuralNet", "DiffusionQL", "SeededRandom", "GradientCheck"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Environments", "DiffusionQL", "SeededRandom"]),
        .testTarget(name: "BanditTests", dependencies: ["Bandit"]),
        .testTarget(name: "ViewerTests", dependencies: ["Viewer", "Evaluation", "Environments", "DiffusionQL", "CGLFW"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "DiffusionQL", "Environments", "CHDF5", "SoftActorCritic", "SeededRandom"]),
    ]
)
