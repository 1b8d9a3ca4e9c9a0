import Foundation
import Tensors

/// The tensors of one checkpoint, whether in one `.safetensors` file or sharded across several
/// with a `model.safetensors.index.json`. Names are the checkpoint's own (e.g. `h.0.attn.c_attn.weight`);
/// `prefix` is stripped so that `transformer.h.0…` (as `save_pretrained` writes) and `h.0…`
/// (as the published gpt2 checkpoint stores) read the same.
public struct WeightStore: Sendable {
    public let files: [SafetensorsFile]
    /// Canonical name (prefix removed) → index into `files` and the stored name.
    private let locations: [String: (file: Int, storedName: String)]

    public init(files: [SafetensorsFile], strippingPrefixes prefixes: [String]) {
        self.files = files
        var locations: [String: (Int, String)] = [:]
        for (index, file) in files.enumerated() {
            for name in file.entries.keys {
                var canonical = name
                for prefix in prefixes where canonical.hasPrefix(prefix) {
                    canonical.removeFirst(prefix.count)
                    break
                }
                locations[canonical] = (index, name)
            }
        }
        self.locations = locations
    }

    /// Opens `model.safetensors`, or the shards named by `model.safetensors.index.json`, in `folder`.
    public static func open(folder: URL, strippingPrefixes prefixes: [String]) throws -> WeightStore {
        let single = folder.appendingPathComponent("model.safetensors")
        let index = folder.appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: single.path) {
            return WeightStore(files: [try SafetensorsFile(url: single)], strippingPrefixes: prefixes)
        }
        guard FileManager.default.fileExists(atPath: index.path) else {
            throw ModelLoadError.missingFile(
                single.path,
                hint:
                    "a model folder needs model.safetensors (or model.safetensors.index.json with its shards); PyTorch .bin checkpoints are not read"
            )
        }
        guard let data = try? Data(contentsOf: index),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let weightMap = json["weight_map"] as? [String: String]
        else {
            throw ModelLoadError.malformedConfig(
                file: index.path, problem: "expected a JSON object with a \"weight_map\" of tensor name → shard file")
        }
        let shardNames = Set(weightMap.values).sorted()
        let shards = try shardNames.map { try SafetensorsFile(url: folder.appendingPathComponent($0)) }
        for (name, shard) in weightMap {
            guard let file = shards.first(where: { $0.path.hasSuffix("/" + shard) }), file.entries[name] != nil else {
                throw ModelLoadError.missingTensor(name: name, file: folder.appendingPathComponent(shard).path)
            }
        }
        return WeightStore(files: shards, strippingPrefixes: prefixes)
    }

    public func contains(_ name: String) -> Bool { locations[name] != nil }

    /// Dtypes present, e.g. ["F16"], for `lantern info`.
    public var dtypes: [String] {
        Set(files.flatMap { $0.entries.values.map(\.dtype.rawValue) }).sorted()
    }

    /// Reads `name`, which must be `[rows, columns]`, as a weight matrix kept in `format`.
    public func matrix(_ name: String, rows: Int, columns: Int, format: WeightFormat) throws -> WeightMatrix {
        try matrix(name, values: tensor(name, shape: [rows, columns]), rows: rows, columns: columns, format: format)
    }

    /// `values` of the tensor `name` (e.g. transposed after reading) as a weight matrix in `format`.
    public func matrix(_ name: String, values: [Float], rows: Int, columns: Int, format: WeightFormat) throws -> WeightMatrix {
        do {
            return try WeightMatrix(values, rows: rows, columns: columns, format: format)
        } catch {
            let file = locations[name].map { files[$0.file].path } ?? "model.safetensors"
            throw ModelLoadError.weightOutOfRange(name: name, format: format.rawValue, largest: error.largest, file: file)
        }
    }

    /// Reads `name` as float32 after checking it has exactly `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> [Float] {
        guard let (fileIndex, storedName) = locations[name] else {
            throw ModelLoadError.missingTensor(name: name, file: files.first?.path ?? "model.safetensors")
        }
        let file = files[fileIndex]
        let stored = file.entries[storedName]!.shape
        guard stored == shape else {
            throw ModelLoadError.wrongShape(name: storedName, expected: shape, found: stored, file: file.path)
        }
        let values = try file.floats(storedName)
        if let bad = values.first(where: { !$0.isFinite }) {
            throw ModelLoadError.nonFiniteWeight(name: storedName, value: bad, file: file.path)
        }
        return values
    }
}
