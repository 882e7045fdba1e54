// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first; a target depends only on targets above it in this list.
//   CMuJoCo (module map) -> MuJoCo (owning wrapper) -> Environments -> NeuralNet (over CBLAS)
//   -> DiffusionQL -> Evaluation -> executables
//   SeededRandom, Parallel and AtomicFile are leaf utilities shared by every layer above the C modules;
//   CommandLineOptions holds the options the executables share.
let package = Package(
    name: "swift-diffusion-ql",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rollout", targets: ["rollout"]),
        .executable(name: "bench", targets: ["bench"]),
        .library(name: "Environments", targets: ["Environments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CMuJoCo", path: "Sources/CMuJoCo"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(name: "SeededRandom"),
        .target(name: "Parallel"),
        .target(name: "AtomicFile"),
        .target(name: "MuJoCo", dependencies: ["CMuJoCo"]),
        .target(name: "Environments", dependencies: ["MuJoCo", "SeededRandom", "Parallel"]),
        .target(name: "NeuralNet", dependencies: ["CBLAS", "SeededRandom", "AtomicFile"]),
        .target(name: "DiffusionQL", dependencies: ["NeuralNet", "SeededRandom", "AtomicFile"]),
        .target(name: "Evaluation", dependencies: ["Environments", "SeededRandom", "AtomicFile"]),
        .target(name: "Benchmarks", dependencies: ["Environments", "Evaluation", "MuJoCo", "Parallel"]),
        .target(name: "CommandLineOptions", dependencies: [
            "Environments",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "rollout", dependencies: [
            "Evaluation", "Environments", "CommandLineOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "bench", dependencies: [
            "Benchmarks", "CommandLineOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "MuJoCoTests", dependencies: ["MuJoCo"]),
        .testTarget(name: "EnvironmentsTests", dependencies: ["Environments", "MuJoCo", "SeededRandom", "Parallel"]),
        // Finite-difference checking shared by the test targets.
        .target(name: "GradientCheck", dependencies: ["SeededRandom"], path: "Tests/GradientCheck"),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "SeededRandom", "GradientCheck"]),
        .testTarget(name: "DiffusionQLTests", dependencies: ["DiffusionQL", "NeuralNet", "SeededRandom", "GradientCheck"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Environments"]),
    ]
)
