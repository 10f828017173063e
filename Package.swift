// swift-tools-version:5.10
// VLSAE Bench: data flows formats → data → model → eval → report, with jobs and a thin CLI on top.
import CompilerPluginSupport
import PackageDescription

let package = Package(
    name: "vlsae-bench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vlsae", targets: ["vlsae"]),
        .library(name: "VLSAEBench", targets: ["VLSAEJobs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.1"),
    ],
    targets: [
        // System libraries (installed by `make setup`). OpenBLAS is not among them: no recorded number
        // goes through it (the Benchmarks package links it as the reference to beat).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),

        // Hot loops in C: deterministic GEMM and level-1 kernels, the sparse passes and Adam, SHA-256 blocks
        // (SHA extensions) and float16 conversion (F16C), each in portable / AVX2 / AVX-512 builds with the
        // same bits; optimised in debug builds too so `make test` runs at speed; no FP contraction anywhere.
        .target(
            name: "CKernels", path: "Sources/CKernels", exclude: ["README.md", "portable_math_tables.bin"],
            cSettings: [.unsafeFlags(["-O2", "-fno-math-errno", "-ffp-contract=off"])]),

        // Stage 0: numeric primitives shared by every stage (matrices, GEMM, portable math, hashing, RNG, files).
        .target(name: "VLSAECore", dependencies: ["CKernels", "VLSAEMacros"], exclude: ["README.md"]),
        // `@MemberwiseInit` (declared in VLSAECore): public records without hand-written initialisers.
        .macro(
            name: "VLSAEMacros",
            dependencies: [
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
            ], exclude: ["README.md"]),
        // Stage 1: file formats → tensors (.npy/.npz, safetensors, torch .pt/.pth).
        .target(name: "VLSAEFormats", dependencies: ["VLSAECore", "CZlib", "CKernels"], exclude: ["README.md"]),
        // Stage 2: domain types: zero-shot datasets (manifests, catalog). The catalog's JSON files
        // (Catalog/, with their provenance README) ship as a resource bundle beside the executable.
        .target(
            name: "VLSAEData", dependencies: ["VLSAECore", "VLSAEFormats"],
            exclude: ["README.md"], resources: [.copy("Catalog")]),
        // Stage 3: sparse autoencoders, trainer, checkpoints.
        .target(name: "VLSAEModel", dependencies: ["VLSAECore", "VLSAEFormats", "CKernels"], exclude: ["README.md"]),
        // Stage 4: zero-shot scoring, concept alignment, metrics and statistics.
        .target(name: "VLSAEEval", dependencies: ["VLSAECore", "VLSAEData", "VLSAEModel"], exclude: ["README.md"]),
        // Stage 5: result documents, tables, regression comparison.
        .target(name: "VLSAEReport", dependencies: ["VLSAECore"], exclude: ["README.md"]),
        // Figures drawn with libpng and a bitmap font of our own.
        .target(name: "VLSAEPlot", dependencies: ["VLSAECore", "CPNG"], exclude: ["README.md"]),
        // The planted-concept synthetic suite (its difficulty is measured with the real evaluator).
        .target(
            name: "VLSAESynth", dependencies: ["VLSAECore", "VLSAEFormats", "VLSAEData", "VLSAEEval"],
            exclude: ["README.md"]),
        // Jobs: eval, train, sweep, regress — orchestrate the stages; the CLI only parses flags.
        .target(
            name: "VLSAEJobs",
            dependencies: [
                "VLSAECore", "VLSAEFormats", "VLSAEData", "VLSAEModel", "VLSAEEval",
                "VLSAEReport", "VLSAEPlot", "VLSAESynth", .product(name: "Yams", package: "Yams"),
            ], exclude: ["README.md"]),
        .executableTarget(
            name: "vlsae",
            dependencies: [
                "VLSAEJobs", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], exclude: ["README.md"]),

        // Shared by the test targets only (no product links it): temporary folders that remove
        // themselves, fixture folders, repository and shared-data locations, the JSON-schema validator.
        .target(name: "VLSAETestSupport", path: "Tests/VLSAETestSupport", exclude: ["README.md"]),

        .testTarget(
            name: "VLSAECoreTests", dependencies: ["VLSAECore", "CKernels", "VLSAETestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "VLSAEFormatsTests", dependencies: ["VLSAEFormats", "CKernels", "VLSAETestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "VLSAEMacrosTests",
            dependencies: [
                "VLSAEMacros", .product(name: "SwiftSyntaxMacrosTestSupport", package: "swift-syntax"),
            ]),
        .testTarget(name: "VLSAEDataTests", dependencies: ["VLSAEData", "VLSAETestSupport"]),
        .testTarget(
            name: "VLSAEModelTests", dependencies: ["VLSAEModel", "CKernels", "VLSAETestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "VLSAEEvalTests", dependencies: ["VLSAEEval", "VLSAETestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "VLSAEReportTests", dependencies: ["VLSAEReport", "VLSAETestSupport"]),
        .testTarget(name: "VLSAEPlotTests", dependencies: ["VLSAEPlot", "VLSAETestSupport"]),
        .testTarget(
            name: "VLSAESynthTests", dependencies: ["VLSAESynth", "VLSAEData", "VLSAEFormats", "VLSAETestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "VLSAEJobsTests", dependencies: ["VLSAEJobs", "VLSAETestSupport"]),
    ]
)
