// swift-tools-version: 6.1
import PackageDescription

// A user's package: a candidate op of its own, checked by RevSearch's verifier in its own
// tests, and an instrumented search with the op in the search space.
let package = Package(
    name: "CustomOp",
    dependencies: [
        .package(name: "RevSearch", path: "../.."),
    ],
    targets: [
        .target(
            name: "CustomOp",
            dependencies: [.product(name: "Ops", package: "RevSearch"), .product(name: "TensorCore", package: "RevSearch")]
        ),
        .executableTarget(
            name: "custom-op-search",
            dependencies: [
                "CustomOp",
                .product(name: "InstrumentedRun", package: "RevSearch"), .product(name: "Reversible", package: "RevSearch"),
                .product(name: "Search", package: "RevSearch"), .product(name: "Verifier", package: "RevSearch"),
            ]
        ),
        .testTarget(
            name: "CustomOpTests",
            dependencies: [
                "CustomOp",
                .product(name: "Ops", package: "RevSearch"), .product(name: "Reversible", package: "RevSearch"),
                .product(name: "TensorCore", package: "RevSearch"), .product(name: "Verifier", package: "RevSearch"),
            ]
        ),
    ]
)
