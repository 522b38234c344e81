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

// No unsafeFlags here: SwiftPM refuses them in a version-pinned dependency, and they named an x86
// CPU. The release tuning (-Ounchecked, -enforce-exclusivity=unchecked, the per-architecture
// -target-cpu; the self-contained link of libstrata.so and of the CLI) is passed by the Makefile's
// `swift build` invocations (`make cli`, `make lib-swiftpm`; SWIFT_BUILD). A plain
// `swift build -c release` builds the same code with the default CPU and checks, only slower.

let package = Package(
    name: "Strata",
    products: [
        /// libstrata.so — the C ABI declared in include/strata.h.
        .library(name: "strata", type: .dynamic, targets: ["Strata"]),
        /// libstrata-static.a — the same, static (installed as libstrata.a by `make`).
        .library(name: "strata-static", type: .static, targets: ["Strata"]),
        /// The Swift API (`import StrataSwift`): `Model`, `Session`; README "Swift".
        .library(name: "StrataSwift", targets: ["StrataSwift"]),
        /// The `strata` command-line tool (installed as `strata` by `make`).
        .executable(name: "strata-cli", targets: ["StrataCLI"]),
    ],
    targets: [
        .target(name: "StrataCore"),
        .target(name: "CStrataABI", path: "Sources/CStrataABI"),
        /// C intrinsics: AVX2 kernels and the PCLMULQDQ CRC-32 on x86-64 (each with a Swift twin),
        /// prefetch and MXCSR access.
        .target(name: "CStrataSIMD", path: "Sources/CStrataSIMD"),
        .target(name: "StrataFormat", dependencies: ["StrataCore", "CStrataSIMD"]),
        .target(name: "StrataKernels", dependencies: ["StrataCore", "CStrataSIMD"]),
        /// The thread pool's scheduler calls (current CPU, moving a worker off the caller's core).
        .target(name: "CStrataThreads", path: "Sources/CStrataThreads"),
        .target(name: "StrataEngine", dependencies: ["StrataCore", "StrataFormat", "StrataKernels", "CStrataThreads",
                                                 "CStrataSIMD"]),
        .target(name: "Strata", dependencies: ["StrataEngine", "CStrataABI"]),
        /// The Swift API: Model, Session, typed throws, [Float] and buffer pointers in and out.
        .target(name: "StrataSwift", dependencies: ["StrataCore", "StrataEngine"]),
        .executableTarget(name: "StrataCLI", dependencies: ["StrataEngine"]),
        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"]),
        .testTarget(name: "StrataFormatTests", dependencies: ["StrataFormat"]),
        /// Helpers shared by the test targets (seeded random inputs).
        .target(name: "StrataTestSupport", path: "Tests/StrataTestSupport"),
        .testTarget(name: "StrataKernelsTests", dependencies: ["StrataKernels", "StrataTestSupport"]),
        .testTarget(name: "StrataEngineTests", dependencies: ["StrataEngine", "StrataFormat", "StrataKernels", "StrataTestSupport"]),
        .testTarget(name: "StrataTests", dependencies: ["Strata", "StrataFormat", "CStrataABI"]),
        .testTarget(name: "StrataSwiftTests", dependencies: ["StrataSwift", "StrataFormat"]),
    ]
)
