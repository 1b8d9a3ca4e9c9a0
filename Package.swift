// swift-tools-version: 6.0
// Lantern — an educational transformer visualiser and explorer.
// Module direction (see ../shared/DESIGN.md):
//   Tensors ← Transformer/Tokenizers ← Generation ← Tracing ← Rendering ← Lessons ← lantern
import Foundation
import PackageDescription

/// Release builds keep Swift's bounds and overflow checks everywhere. The numeric modules were
/// built with -Ounchecked until it was measured (scripts/bench_unchecked.sh, 2026-12-03, AMD
/// Zen 3, four alternating rounds): no difference beyond the machine's noise in prefill, decode
/// or training, since the hot loops are BLAS and the C kernels. LANTERN_UNCHECKED_RELEASE=1
/// builds the unchecked variant again, for that comparison only.
let numericRelease: [SwiftSetting] =
    ProcessInfo.processInfo.environment["LANTERN_UNCHECKED_RELEASE"] == nil
    ? [] : [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "Lantern",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lantern", targets: ["lantern"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // MARK: System libraries (Debian packages named in `providers`).
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CFreeType", pkgConfig: "freetype2",
            providers: [.apt(["libfreetype-dev", "fonts-dejavu-core"]), .brew(["freetype"])]),
        .systemLibrary(
            name: "CGraphviz", pkgConfig: "libgvc",
            providers: [.apt(["libgraphviz-dev", "graphviz"]), .brew(["graphviz"])]),

        // MARK: Lantern modules.
        // One C kernel compiled for AVX2 and chosen at run time (see Sources/CKernels/matvec.c).
        .target(name: "CKernels"),
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: numericRelease),
        .target(name: "Tokenizers", dependencies: ["Tensors"]),
        .target(name: "Transformer", dependencies: ["Tensors"], swiftSettings: numericRelease),
        // Finding models by name (Lantern's folder, the Hugging Face cache) and downloading them.
        // The built-in teaching models (lantern-tiny, lantern-tiny-encoder) ship as resources of this module.
        // Downloads through libcurl (Debian's libcurl4-openssl-dev for the headers; libcurl4 at run time).
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(
            name: "ModelHub", dependencies: ["Tensors", "CCurl"],
            resources: [.copy("lantern-tiny"), .copy("lantern-tiny-encoder"), .copy("lantern-tiny-translate")]),
        .target(name: "Generation", dependencies: ["Transformer", "Tokenizers", "Tensors"]),
        // Traces: capture specifications, trace folders (trace.json + .npy), replay, diff, analysis.
        .target(name: "Tracing", dependencies: ["Generation", "Transformer", "Tokenizers", "Tensors"]),
        // Pictures: colormaps, terminal renderings, PNG canvases with FreeType text, heatmaps, Graphviz architecture graphs.
        .target(
            name: "Rendering",
            dependencies: ["Tracing", "Generation", "Transformer", "Tokenizers", "Tensors", "CLibPNG", "CFreeType", "CGraphviz"]),
        // Training: backward pass, optimiser, data loading, tokenizer training, the teaching corpus.
        .target(
            name: "Training", dependencies: ["Tracing", "Generation", "Transformer", "Tokenizers", "Tensors", "CKernels"],
            swiftSettings: numericRelease),
        // Lessons: the lesson format, its checks, the runner, progress and answer checking (no CLI knowledge).
        .target(name: "Lessons", dependencies: ["Rendering", "Tensors"]),
        // Every parser of a user-supplied file behind one entry point, for libFuzzer (scripts/fuzz.sh)
        // and the regression test that replays what it found; `lantern-fuzz` is the driver.
        .target(name: "FuzzTargets", dependencies: ["Lessons", "Tracing", "Transformer", "Tokenizers", "Tensors"]),
        .executableTarget(name: "lantern-fuzz", dependencies: ["FuzzTargets"]),
        .executableTarget(
            name: "lantern",
            dependencies: [
                "Lessons", "Rendering", "Tracing", "Generation", "Transformer", "Tokenizers", "Tensors", "ModelHub", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),

        // MARK: Tests (one target per module, plus end-to-end CLI tests).
        // Shared by the test targets: where the checkout, its fixtures and ../shared/data are; golden files.
        .target(name: "LanternTestSupport", path: "Tests/LanternTestSupport"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "TokenizersTests", dependencies: ["LanternTestSupport", "Tokenizers"]),
        // Fixtures are read in place (see Tests/TransformerTests/Fixtures/README.md), not copied.
        .testTarget(
            name: "TransformerTests", dependencies: ["LanternTestSupport", "Transformer", "Tensors", "Generation"], exclude: ["Fixtures"]),
        .testTarget(name: "GenerationTests", dependencies: ["LanternTestSupport", "Generation", "Transformer", "Tokenizers"]),
        .testTarget(name: "ModelHubTests", dependencies: ["ModelHub"]),
        // Golden images and DOT files are read in place by the tests.
        .testTarget(
            name: "RenderingTests",
            dependencies: ["LanternTestSupport", "Rendering", "Tracing", "Generation", "Transformer", "Tokenizers", "Tensors"],
            exclude: ["Golden"]),
        .testTarget(
            name: "TracingTests", dependencies: ["LanternTestSupport", "Tracing", "Generation", "Transformer", "Tokenizers", "Tensors"]),
        .testTarget(
            name: "TrainingTests", dependencies: ["LanternTestSupport", "Training", "Generation", "Transformer", "Tokenizers", "Tensors"],
            exclude: ["Fixtures"]),
        .testTarget(name: "LessonsTests", dependencies: ["Lessons"]),
        .testTarget(name: "CLITests", dependencies: ["LanternTestSupport", "lantern"]),
        // Replays every input the fuzzer found (Inputs/<target>/), read in place.
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"], exclude: ["Inputs"])
    ]
)
