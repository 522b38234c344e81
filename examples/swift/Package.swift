// swift-tools-version:6.0
// The Swift end of examples/cnn_digits.py: a program that depends on Strata's StrataSwift product.
// In your own package, depend on a release instead:
//   .package(url: "https://<where you host strata>/strata.git", exact: "0.2.0")
import PackageDescription

let package = Package(
    name: "classify-digits",
    dependencies: [.package(name: "strata", path: "../..")],  // this checkout
    targets: [
        .executableTarget(name: "classify-digits", dependencies: [.product(name: "StrataSwift", package: "strata")]),
    ]
)
