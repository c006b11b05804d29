// swift-tools-version: 6.0
import PackageDescription

// Generic hot paths (operators, record writers, state tables) live in `Stream` but are
// instantiated with the user's record types in other modules. Cross-module optimisation lets
// the compiler specialise them there instead of running unspecialised generic code per record.
// Release builds also drop the *runtime* exclusivity checks (compile-time checks stay): on the
// per-record path through class-held state they cost ~12% of the runtime benchmark.
let hotPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Stream", targets: ["Stream"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Detectors", targets: ["Detectors"]),
        .library(name: "RCA", targets: ["RCA"]),
        .library(name: "Remediate", targets: ["Remediate"]),
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigil-bench", targets: ["VigilBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C shims: module maps over Debian's -dev packages (installed by scripts/setup).
        .systemLibrary(name: "CRdKafka", path: "Sources/CRdKafka"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CBPF", path: "Sources/CBPF"),

        .target(
            name: "Stream",
            dependencies: ["CZstd", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md", "Checkpoint/FORMAT.md"],
            swiftSettings: hotPathSettings
        ),
        .target(name: "Ingest", dependencies: ["Stream"], swiftSettings: hotPathSettings),
        .target(name: "Detectors", dependencies: ["Stream"], swiftSettings: hotPathSettings),
        .target(name: "RCA", dependencies: ["Stream"], swiftSettings: hotPathSettings),
        .target(name: "Remediate", dependencies: ["Stream"], swiftSettings: hotPathSettings),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "Stream", "Ingest", "Detectors", "RCA", "Remediate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSettings
        ),
        .executableTarget(
            name: "VigilBench",
            dependencies: ["Stream"],
            path: "benchmarks/Sources/VigilBench",
            swiftSettings: hotPathSettings
        ),

        .testTarget(name: "StreamTests", dependencies: ["Stream"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest"]),
        .testTarget(name: "DetectorsTests", dependencies: ["Detectors"]),
        .testTarget(name: "RCATests", dependencies: ["RCA"]),
        .testTarget(name: "RemediateTests", dependencies: ["Remediate"]),
    ],
    swiftLanguageModes: [.v6]
)
