// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "RevSearch",
    products: [
        .executable(name: "revsearch", targets: ["revsearch"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "Ops", targets: ["Ops"]),
        .library(name: "Reversible", targets: ["Reversible"]),
        .library(name: "Profiler", targets: ["Profiler"]),
        .library(name: "Translation", targets: ["Translation"]),
        .library(name: "Search", targets: ["Search"]),
        .library(name: "Verifier", targets: ["Verifier"]),
        .library(name: "RunFiles", targets: ["RunFiles"]),
        .library(name: "InstrumentedRun", targets: ["InstrumentedRun"]),
        // Every library in one dependency line.
        .library(name: "RevSearch", targets: ["TensorCore", "Ops", "Reversible", "Profiler", "Translation", "Search", "Verifier",
                                               "RunFiles", "InstrumentedRun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // OpenBLAS's cblas.h, found through pkg-config (`openblas`).
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // libunwind with UNW_LOCAL_ONLY: call stacks for the allocator hooks.
        .target(
            name: "CUnwind",
            linkerSettings: [.linkedLibrary("unwind")]
        ),
        // Open MPI's C interface (found through pkg-config, `ompi-c`): data-parallel runs.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        // zlib, for gzip-compressed corpora.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's heap statistics: the profiler's independent cross-check.
        .target(name: "CHeap"),
        .target(
            name: "TensorCore",
            dependencies: [
                "CBLAS", "CUnwind",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            plugins: ["GitCommit"]
        ),
        // Records the checkout's commit in the build (RevSearchVersion.commit).
        .plugin(name: "GitCommit", capability: .buildTool()),
        .target(
            name: "Ops",
            dependencies: ["TensorCore"]
        ),
        .target(
            name: "Reversible",
            dependencies: ["TensorCore", "Ops"]
        ),
        .target(
            name: "Profiler",
            dependencies: ["TensorCore", "CHeap"]
        ),
        .target(
            name: "Translation",
            dependencies: ["TensorCore", "Ops", "Reversible", "CZlib"]
        ),
        .target(
            name: "Search",
            dependencies: ["TensorCore", "Ops", "Reversible", "Translation"]
        ),
        .target(
            name: "Verifier",
            dependencies: ["TensorCore", "Ops", "Reversible"]
        ),
        // The files a run reads (model configs, probes) and their JSON reader.
        .target(
            name: "RunFiles",
            dependencies: ["TensorCore", "Ops", "Reversible"]
        ),
        // Instrumented searches and trainings as a library: the profiler, the verifier and the
        // memory budget attached through the hooks, the run's files, resume, progress events.
        .target(
            name: "InstrumentedRun",
            dependencies: ["TensorCore", "Ops", "Reversible", "Profiler", "Translation", "Search", "Verifier", "RunFiles"]
        ),
        // The MPI communicator behind `mpirun -np N revsearch search|train`.
        .target(
            name: "DataParallel",
            dependencies: ["Translation", "CMPI"]
        ),
        // What `revsearch bench` measures (package API: the CLI's, not a user's).
        .target(
            name: "Benchmarks",
            dependencies: ["TensorCore", "Reversible", "Profiler", "Translation", "Verifier", "InstrumentedRun", "CBLAS"]
        ),
        // The scenarios `revsearch probe` runs (package API: the CLI's, not a user's).
        .target(
            name: "Probing",
            dependencies: ["TensorCore", "Ops", "Reversible", "Profiler", "Translation", "Search", "Verifier", "RunFiles", "InstrumentedRun"]
        ),
        .executableTarget(
            name: "revsearch",
            dependencies: [
                "TensorCore", "Ops", "Reversible", "Profiler", "Translation", "Search", "Verifier", "RunFiles", "InstrumentedRun", "Probing", "Benchmarks", "DataParallel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "Verifier"]),
        .testTarget(name: "OpsTests", dependencies: ["Ops", "TensorCore", "Verifier"]),
        .testTarget(name: "ReversibleTests", dependencies: ["Reversible", "Ops", "TensorCore"]),
        .testTarget(name: "ProfilerTests", dependencies: ["Profiler", "Reversible", "Verifier", "TensorCore"]),
        .testTarget(name: "TranslationTests", dependencies: ["Translation", "TensorCore"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "Translation", "Reversible", "TensorCore"]),
        .testTarget(name: "VerifierTests", dependencies: ["Verifier", "Reversible", "Ops", "TensorCore"]),
        .testTarget(name: "RunFilesTests", dependencies: ["RunFiles"]),
        .testTarget(name: "InstrumentedRunTests", dependencies: ["InstrumentedRun", "Ops", "Reversible", "Search", "TensorCore", "Translation"]),
        .testTarget(name: "revsearchTests", dependencies: ["revsearch"]),
    ]
)

// libFuzzer entry points for every reader of untrusted input (scripts/fuzz). Declared only
// when REVSEARCH_FUZZ is set: the target has no main of its own (libFuzzer supplies it under
// -sanitize=fuzzer), so an ordinary build must not try to link it.
if Context.environment["REVSEARCH_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "revsearch-fuzz",
        dependencies: ["TensorCore", "Reversible", "Translation", "Search", "RunFiles"],
        path: "Fuzz",
        // ld.gold fails on libFuzzer's objects (an internal error in its DWARF reader); lld links them.
        linkerSettings: [.unsafeFlags(["-use-ld=lld"])]
    ))
}
