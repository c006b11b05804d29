// swift-tools-version: 6.0
// A user's own topology on Vigil: per-tenant error-budget burn alerts from the Collector's
// spans, run as a Kafka consumer-group member. `swift run -c release error-budget --help`.
import PackageDescription

let package = Package(
    name: "ErrorBudget",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your own project: .package(url: "https://…/vigil.git", from: "…").
        .package(name: "Vigil", path: "../.."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "error-budget",
            dependencies: [
                .product(name: "Stream", package: "Vigil"),
                .product(name: "Ingest", package: "Vigil"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/ErrorBudget"
        ),
    ],
    swiftLanguageModes: [.v6]
)
