import ArgumentParser
import Foundation
import Tracing
import Transformer

/// Options that make a run keep a trace (shared by generate and step).
struct TraceOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Save a trace of the run to this folder (trace.json + one .npy per tensor).", valueName: "dir"))
    var trace: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Records to add or leave out of the trace, e.g. +resid_post,-pos_embed, all, none. Default: embed, pos_embed, attn.pattern.",
            valueName: "records"))
    var capture: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only record these layers, e.g. 0,5,11 (default: all).", valueName: "layers"))
    var layers: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Refuse a trace larger than this many megabytes.", valueName: "MB"))
    var captureBudget: Int = 1024

    func validate() throws {
        guard captureBudget > 0 else { throw ValidationError("--capture-budget \(captureBudget) must be positive") }
        _ = try request()
    }

    func parsedLayers() throws -> Set<Int>? {
        guard let layers else { return nil }
        let values = layers.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--layers \(layers) should be layer numbers separated by commas, e.g. 0,1,5")
        }
        return Set(values.compactMap { $0 })
    }

    func request() throws -> CaptureRequest {
        do { return try CaptureRequest.parse(capture, layers: try parsedLayers()) } catch let error as TraceError {
            throw ValidationError(error.description)
        }
    }

    /// The capture for a run of `positions` tokens, refused before any work if over budget.
    func checkedRequest(config: TransformerConfig, positions: Int) throws -> CaptureRequest {
        let request = try request()
        if let layers = request.layers, let bad = layers.first(where: { $0 >= config.layers }) {
            throw ValidationError("--layers \(bad) is out of range: this model has layers 0 to \(config.layers - 1)")
        }
        try request.checkBudget(config: config, positions: positions, budget: captureBudget * 1_000_000)
        return request
    }
}
