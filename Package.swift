// swift-tools-version: 6.0
// The folder tree is the pipeline: source text and diagnostics -> syntax -> checker ->
// IR and optimizer -> bytecode -> VM, over a tensor library and a model runtime that
// know nothing of the language.
import PackageDescription

let package = Package(
    name: "nsi",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "nsi", targets: ["nsi"]),
        .executable(name: "nsi-bench", targets: ["nsi-bench"]),
        // The embedding API for Swift hosts (docs/embedding.md).
        .library(name: "NSI", targets: ["NSI"]),
        // The C ABI as a shared library, libnsic.so, with Sources/NSIC/include/nsi.h.
        .library(name: "nsic", type: .dynamic, targets: ["NSIC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // C libraries from Debian: libopenblas-dev and libzstd-dev.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),

        // Tensors over f32/i32/i64, ops, matmul through cblas, safetensors I/O.
        // nsi's own CPU code in C: feature detection, OpenBLAS's kernel choice, kernels.
        .target(name: "CNSIKernels", linkerSettings: [.linkedLibrary("dl")]),
        // The one JSON reader and writer: config.json, tokenizer.json, safetensors headers, params.
        .target(name: "NSIJSON"),
        .target(name: "NSITensor", dependencies: ["CBLAS", "CNSIKernels", "NSIJSON"]),
        // zstd frames for compact plans and results.
        .target(name: "NSIZstd", dependencies: ["CZstd"]),
        // Hugging Face tokenizer.json (byte-level BPE).
        .target(name: "NSITokenizer", dependencies: ["NSIJSON"]),
        // Source text, ranges, diagnostics and their rendering.
        .target(name: "NSISource"),
        // Lexer, parser, AST, formatter.
        .target(name: "NSISyntax", dependencies: ["NSISource"]),
        // What a model folder promises without its weights: config, access points, signature.
        .target(name: "NSIModel", dependencies: [
            "NSITensor", "NSITokenizer",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The intervention graph: typed SSA instructions anchored at points and steps.
        .target(name: "NSIIR", dependencies: ["NSITensor"]),
        // Optimizer: named passes over the intervention graph, with a verifier after each.
        .target(name: "NSIOpt", dependencies: ["NSIIR", "NSITensor"]),
        // Checker: names, shapes, causality and params against a model signature; builds
        // the intervention graph.
        .target(name: "NSICheck", dependencies: ["NSISource", "NSISyntax", "NSIIR", "NSIModel", "NSITensor"]),
        // Transformer runtime: weights, forward, generation, hooks.
        .target(name: "NSIRuntime", dependencies: ["NSIModel", "NSITensor", "NSITokenizer", "CBLAS"]),
        // Plans as compact, verified bytecode: encoder, decoder, verifier, disassembler.
        .target(name: "NSIBytecode", dependencies: ["NSIIR", "NSITensor", "NSIZstd"]),
        // Runs a checked program on a loaded model.
        .target(name: "NSIVM", dependencies: ["NSIIR", "NSIModel", "NSIRuntime", "NSITensor", "NSITokenizer"]),
        // `nsi lsp`: the checker's knowledge in an editor (diagnostics, hover shapes, completion).
        .target(name: "NSILSP", dependencies: ["NSICheck", "NSIIR", "NSIJSON", "NSIModel", "NSISource", "NSISyntax"]),
        // Figures of results as SVG (line charts, heatmaps) and terminal sparklines.
        .target(name: "NSIPlot"),
        // The embedding API: load a model, compile or decode a plan, run it from many threads.
        .target(name: "NSI", dependencies: [
            "NSITensor", "NSISource", "NSISyntax", "NSICheck", "NSIIR", "NSIModel", "NSIRuntime", "NSIVM", "NSIBytecode", "NSIOpt", "NSIJSON",
        ]),
        // The C ABI over the embedding API (opaque handles, status codes, JSON params).
        .target(name: "NSIC", dependencies: ["NSI", "NSIJSON", "NSITensor"], exclude: ["include"]),
        // The model server's API as its clients see it: job states and status, and an HTTP
        // client (`nsi submit`, tests, benchmarks, host applications).
        .target(name: "NSIClient", dependencies: ["NSIZstd"]),
        // The shared model server: HTTP API, API keys and limits, a durable job queue
        // (SQLite or PostgreSQL), and a scheduler that batches co-tenant plans.
        .target(name: "NSIServer", dependencies: [
            "NSI", "NSIBytecode", "NSICheck", "NSIClient", "NSIIR", "NSIModel", "NSIOpt", "NSIRuntime", "NSISource", "NSISyntax", "NSITensor", "NSIVM", "NSIZstd",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The commands of the `nsi` tool, as a library that tests call directly.
        .target(name: "NSICLI", dependencies: [
            "NSI", "NSITensor", "NSITokenizer", "NSISource", "NSISyntax", "NSICheck", "NSIIR", "NSIModel", "NSIRuntime", "NSIVM", "NSIBytecode", "NSIOpt",
            "NSIServer", "NSIClient", "NSIZstd", "NSILSP", "NSIPlot",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "nsi", dependencies: ["NSICLI"]),
        // Timing runner for Benchmarks/run-runtime.
        .executableTarget(name: "nsi-bench", dependencies: [
            "NSIRuntime", "NSITensor", "NSIModel", "NSISource", "NSISyntax", "NSICheck", "NSIIR", "NSIJSON", "NSIOpt", "NSIVM", "NSILSP",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/NSIBench"),

        // What every test target shares: where the fixtures are, the test models' signatures,
        // golden files, a seeded generator, a lock.
        .target(name: "NSITestSupport", dependencies: ["NSIModel", "NSIRuntime"], path: "Tests/Support"),
        .testTarget(name: "NSIJSONTests", dependencies: ["NSIJSON"]),
        .testTarget(name: "NSITensorTests", dependencies: ["NSITensor", "NSIZstd", "NSITestSupport"]),
        .testTarget(name: "NSITokenizerTests", dependencies: ["NSITestSupport", "NSITokenizer"]),
        .testTarget(name: "NSISyntaxTests", dependencies: ["NSITestSupport", "NSISyntax", "NSISource"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NSIRuntimeTests", dependencies: ["NSITestSupport", "NSIJSON", 
            "NSIRuntime", "NSIModel", "NSITensor", "NSITokenizer",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "NSICheckTests", dependencies: ["NSITestSupport", "NSICheck", "NSIIR", "NSISyntax", "NSISource", "NSIModel"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "NSIVMTests", dependencies: ["NSITestSupport", 
            "NSI", "NSIBytecode", "NSIVM", "NSIIR", "NSICheck", "NSISyntax", "NSISource", "NSIModel", "NSIRuntime", "NSITensor",
        ]),
        .testTarget(name: "NSIOptTests", dependencies: ["NSITestSupport", "NSIOpt", "NSIIR", "NSICheck", "NSISyntax", "NSISource", "NSIModel"]),
        .testTarget(name: "NSICLITests", dependencies: ["NSITestSupport", "NSICLI", "NSISource", "NSISyntax", "NSICheck", "NSIModel", "NSIRuntime", "NSIVM", "NSIPlot"],
                    exclude: ["Golden"]),
        .testTarget(name: "NSITests", dependencies: ["NSITestSupport", "NSI"]),
        .testTarget(name: "NSILSPTests", dependencies: ["NSITestSupport", "NSILSP", "NSIJSON"]),
        // Builds and runs the C and Python hosts of Samples/hosts against libnsic.so.
        .testTarget(name: "NSIHostTests", dependencies: ["NSITestSupport", "NSITensor", "NSIRuntime"], exclude: ["abi_check.c"]),
        .testTarget(name: "NSIServerTests", dependencies: ["NSITestSupport", 
            "NSIServer", "NSIClient", "NSICLI", "NSITensor", "NSIZstd", "NSIVM", "NSIBytecode", "NSIIR", "NSI",
        ]),
        .testTarget(name: "NSIBytecodeTests", dependencies: ["NSITestSupport", "NSIBytecode", "NSIIR", "NSICheck", "NSISyntax", "NSISource", "NSIModel", "NSITensor", "NSI"],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

// The fuzz target of the plan reader, verifier and VM: built only by Scripts/fuzz
// (NSI_FUZZ=1, with -sanitize=fuzzer), since libFuzzer supplies its main.
if Context.environment["NSI_FUZZ"] == "1" {
    package.products.append(.executable(name: "nsi-fuzz", targets: ["nsi-fuzz"]))
    package.targets.append(.executableTarget(name: "nsi-fuzz", dependencies: ["NSI", "NSIBytecode", "NSIIR", "NSIRuntime", "NSIVM"],
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
