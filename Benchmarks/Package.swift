// swift-tools-version: 6.1
// Benchmarks of VLSAE Bench, kept out of the main build and `make test`: `make bench` (scripts/bench.sh)
// builds this package in release and compares it with the PyTorch reference in reference/.
import PackageDescription

let package = Package(
    name: "vlsae-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "vlsae-bench", path: ".."),
        // The ARC runtime interposer (Linux, Swift 6.3) is left out: only the malloc interposer is kept.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // OpenBLAS, the reference sgemm (libopenblas-dev, installed by `make deps`).
        .systemLibrary(name: "COpenBLAS", path: "Benchmarks/COpenBLAS"),
        .executableTarget(
            name: "VLSAEBenchmarks",
            dependencies: [
                "COpenBLAS",
                .product(name: "VLSAEBench", package: "vlsae-bench"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/VLSAEBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
