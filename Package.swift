// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Quarry",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "quarry", targets: ["quarry"]),
        .library(name: "QuarryClient", targets: ["QuarryClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // The only C++ in the project: a C API over libxapian.
        .target(
            name: "CXapian",
            path: "CXapian",
            publicHeadersPath: "include",
            cxxSettings: [.unsafeFlags(["-std=c++17"])],
            linkerSettings: [.linkedLibrary("xapian"), .linkedLibrary("stdc++")]
        ),
        .target(name: "XapianKit", dependencies: ["CXapian"]),
        .target(name: "QuarryProtocol"),
        .target(
            name: "QuarryCore",
            dependencies: [
                "XapianKit", "QuarryProtocol",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What Glibc's Swift module hides behind _GNU_SOURCE: SO_PEERCRED's struct, thread names.
        .target(name: "CQuarryLinux"),
        .target(
            name: "QuarryServer",
            dependencies: [
                "QuarryCore", "QuarryProtocol", "CQuarryLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "QuarryClient",
            dependencies: [
                "QuarryProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "quarry",
            dependencies: [
                "QuarryCore", "QuarryServer", "QuarryClient", "QuarryProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "quarry-bench",
            dependencies: [
                "QuarryCore", "QuarryClient", "QuarryProtocol", "QuarryServer", "XapianKit", "CQuarryLinux",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libFuzzer targets over the corpus readers, the request parser and the query path
        // (docs/RELIABILITY.md). An ordinary build replays inputs; `make fuzz` builds it with
        // -sanitize=fuzzer,address -DFUZZING, where libFuzzer supplies main.
        .executableTarget(
            name: "quarry-fuzz",
            dependencies: [
                "QuarryCore", "QuarryServer", "QuarryProtocol",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "XapianKitTests", dependencies: ["XapianKit"]),
        .testTarget(
            name: "QuarryCoreTests",
            dependencies: ["QuarryCore", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "QuarryServerTests",
            dependencies: ["QuarryServer", "QuarryCore", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "QuarryEndToEndTests",
            // XapianKit reads an index a killed `quarry index` left behind, file records and all.
            dependencies: ["QuarryClient", "QuarryProtocol", "XapianKit"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
