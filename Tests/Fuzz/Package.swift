// swift-tools-version:5.10
// libFuzzer targets for the readers of untrusted files, kept out of the main build and `make test`:
// `make fuzz` (scripts/fuzz.sh) builds this package with `-sanitize=fuzzer,address` and runs each
// target on its committed seed corpus in Corpus/<target>/ (README, "Hostile input").
import PackageDescription

/// One executable per reader; each calls its reader on the fuzzer's bytes.
let fuzzTargets = ["FuzzNpy", "FuzzNpz", "FuzzSafetensors", "FuzzTorch", "FuzzManifest", "FuzzSweepConfig"]

let package = Package(
    name: "vlsae-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "vlsae-bench", path: "../..")],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver (compiler-rt, linked by -sanitize=fuzzer).
        .systemLibrary(name: "CFuzzDriver", path: "Sources/CFuzzDriver"),
        // The driver and what each target does with its input.
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzDriver", .product(name: "VLSAEBench", package: "vlsae-bench")],
            path: "Sources/FuzzSupport"),
    ]
        + fuzzTargets.map { name in
            .executableTarget(
                name: name, dependencies: ["FuzzSupport"], path: "Sources/\(name)",
                // GNU gold, the default linker on Linux, fails internally on these sanitized objects; lld ships
                // with the toolchain.
                linkerSettings: [.unsafeFlags(["-use-ld=lld"], .when(platforms: [.linux]))])
        }
)
