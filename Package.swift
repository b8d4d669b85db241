// swift-tools-version: 6.1
import PackageDescription

// Hand-written SIMD kernels need an AVX2+FMA target: without it SIMD8<Float>.addingProduct becomes
// eight calls to fmaf() (~300x slower). swiftc rejects "x86-64-v3"; haswell = AVX2+FMA and runs on Zen.
// unsafeFlags are accepted in a root package only, which this is.
let fastSwift: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"]),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]
let cpuSwift: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
// The AVX-512 convolution tiles: a module of their own, because the target CPU is a module-wide flag;
// Tensors calls them only on a CPU that has AVX-512 (CPUFeatures), so the package still runs on AVX2.
let avx512Swift: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "skylake-avx512"]),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "HippoPEFT",
    products: [
        .executable(name: "harness", targets: ["Harness"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Volumes", targets: ["Volumes"]),
        .library(name: "Backbones", targets: ["Backbones"]),
        .library(name: "PEFTMethods", targets: ["PEFTMethods"]),
        .library(name: "Experiments", targets: ["Experiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
        // A regular C target, not a systemLibrary: its include/ folder reaches every importer's search
        // path, so include/znzlib.h satisfies nifti2_io.h's `#include <znzlib.h>`.
        .target(
            name: "CNIfTI",
            linkerSettings: [.linkedLibrary("nifti2"), .linkedLibrary("znz"), .linkedLibrary("z")]
        ),

        .target(name: "CPUFeatures"),
        .target(name: "WideKernels", swiftSettings: avx512Swift),
        .target(name: "Tensors", dependencies: ["CBLAS", "CLAPACKE", "CPUFeatures", "WideKernels"], swiftSettings: fastSwift),
        .target(name: "Volumes", dependencies: ["CNIfTI"], swiftSettings: fastSwift),
        // Reading configuration files: unknown keys with "did you mean", located errors (file:line:column).
        .target(name: "ConfigDecoding", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Backbones", dependencies: ["Tensors", "ConfigDecoding"], swiftSettings: cpuSwift),
        // The MONAI fixture runner (`harness parity`); production code never imports it.
        .target(name: "Parity", dependencies: ["Backbones", "Tensors"], swiftSettings: cpuSwift),
        .target(name: "PEFTMethods", dependencies: ["Backbones", "Tensors", "ConfigDecoding"], swiftSettings: cpuSwift),
        .target(
            name: "Experiments",
            dependencies: [
                "PEFTMethods", "Backbones", "Tensors", "Volumes", "ConfigDecoding",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: cpuSwift
        ),
        // Classification from hippocampal volumes downstream of a sweep (`harness diagnose` only).
        .target(
            name: "Diagnosis",
            dependencies: ["Experiments", "Backbones", "Tensors", "Volumes", "ConfigDecoding", .product(name: "Yams", package: "Yams")],
            swiftSettings: cpuSwift
        ),
        .executableTarget(
            name: "Harness",
            dependencies: [
                "Experiments", "Diagnosis", "Parity", "PEFTMethods", "Backbones", "Tensors", "Volumes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: cpuSwift
        ),

        // Helpers that several test targets share (the shared-data locator, temporary folders).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"], swiftSettings: cpuSwift),
        .testTarget(name: "VolumesTests", dependencies: ["Volumes", "TestSupport"], swiftSettings: cpuSwift),
        .testTarget(name: "BackbonesTests", dependencies: ["Backbones", "Tensors", "TestSupport"], swiftSettings: cpuSwift),
        .testTarget(name: "ParityTests", dependencies: ["Parity", "Backbones", "Tensors", "TestSupport"], swiftSettings: cpuSwift),
        .testTarget(name: "PEFTMethodsTests", dependencies: ["PEFTMethods", "Backbones", "Tensors"], swiftSettings: cpuSwift),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: ["Experiments", "Diagnosis", "ConfigDecoding", "PEFTMethods", "Backbones", "Tensors", "Volumes", "TestSupport",
                           .product(name: "Yams", package: "Yams")],
            exclude: ["Fixtures"], swiftSettings: cpuSwift),
        .testTarget(
            name: "DiagnosisTests", dependencies: ["Diagnosis", "Experiments", "Volumes", "TestSupport"],
            exclude: ["Fixtures"], swiftSettings: cpuSwift),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "TestSupport"], swiftSettings: cpuSwift),
    ]
)
