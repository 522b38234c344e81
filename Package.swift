// swift-tools-version:6.0
// Strata: an embeddable, C-ABI neural-network inference runtime.
// The library products depend on nothing but the Swift standard library and Glibc.
//
// The libraries that ship (`make lib`: build/lib/libstrata.so.1 and libstrata.a) are NOT built
// by this package: the Makefile compiles the same sources with Embedded Swift (no Swift runtime,
// about 1 MB instead of 6.7 MB; docs/EMBEDDING.md). This package builds the same modules in
// normal Swift for `swift test`, the sanitizer runs and the `strata` CLI, so the sources keep to
// the Embedded subset: typed throws (`throws(StrataError)`), no existentials, dynamic casts, key
// paths or unprintable interpolations, and `#if hasFeature(Embedded)` imports of CStrataLibc
// (Sources/CStrataLibc, used by the Makefile only) where normal Swift imports Glibc.
import PackageDescription

/// Release flags shared by the runtime modules (see ../shared/ARCHITECTURE.md, "Decisions").
/// `-target-cpu haswell` makes `SIMD8<Float>.addingProduct` a ymm FMA; without it FMAs are libcalls.
let fastSwift: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked", "-target-cpu", "haswell"],
                 .when(configuration: .release)),
]

/// Link flags that make SwiftPM's .build/release/libstrata.so self-contained (the normal-Swift
/// build, not the one `make lib` ships): the Swift runtime linked in statically, only `strata_*`
/// exported (strata.map), unused sections dropped, an soname carrying the ABI major version.
/// Release only, so debug builds and `swift test` link as usual.
let embeddedLibrary: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib",
                  "-Xlinker", "--version-script=\(Context.packageDirectory)/strata.map",
                  "-Xlinker", "-soname=libstrata.so.1",
                  "-Xlinker", "--gc-sections"],
                 .when(configuration: .release)),
]

/// The installed `strata` tool also carries the Swift runtime, so it runs where Swift is absent.
let selfContainedTool: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
]

let package = Package(
    name: "Strata",
    products: [
        /// libstrata.so — the C ABI declared in include/strata.h.
        .library(name: "strata", type: .dynamic, targets: ["Strata"]),
        /// libstrata-static.a — the same, static (installed as libstrata.a by `make`).
        .library(name: "strata-static", type: .static, targets: ["Strata"]),
        /// The `strata` command-line tool (installed as `strata` by `make`).
        .executable(name: "strata-cli", targets: ["StrataCLI"]),
    ],
    targets: [
        .target(name: "StrataCore", swiftSettings: fastSwift),
        .target(name: "CStrataABI", path: "Sources/CStrataABI"),
        /// C intrinsics: AVX2 kernels and the PCLMULQDQ CRC-32 on x86-64 (each with a Swift twin),
        /// prefetch and MXCSR access.
        .target(name: "CStrataSIMD", path: "Sources/CStrataSIMD"),
        .target(name: "StrataFormat", dependencies: ["StrataCore", "CStrataSIMD"], swiftSettings: fastSwift),
        .target(name: "StrataKernels", dependencies: ["StrataCore", "CStrataSIMD"], swiftSettings: fastSwift),
        /// The thread pool's scheduler calls (current CPU, moving a worker off the caller's core).
        .target(name: "CStrataThreads", path: "Sources/CStrataThreads"),
        .target(name: "StrataEngine", dependencies: ["StrataCore", "StrataFormat", "StrataKernels", "CStrataThreads",
                                                 "CStrataSIMD"],
                swiftSettings: fastSwift),
        .target(name: "Strata", dependencies: ["StrataEngine", "CStrataABI"], swiftSettings: fastSwift,
                linkerSettings: embeddedLibrary),
        .executableTarget(name: "StrataCLI", dependencies: ["StrataEngine"], swiftSettings: fastSwift,
                          linkerSettings: selfContainedTool),
        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"]),
        .testTarget(name: "StrataFormatTests", dependencies: ["StrataFormat"]),
        /// Helpers shared by the test targets (seeded random inputs).
        .target(name: "StrataTestSupport", path: "Tests/StrataTestSupport"),
        .testTarget(name: "StrataKernelsTests", dependencies: ["StrataKernels", "StrataTestSupport"]),
        .testTarget(name: "StrataEngineTests", dependencies: ["StrataEngine", "StrataFormat", "StrataTestSupport"]),
        .testTarget(name: "StrataTests", dependencies: ["Strata", "StrataFormat", "CStrataABI"]),
    ]
)
