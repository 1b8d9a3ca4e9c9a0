import Foundation
import Tensors

/// How an encoder's token vectors become one vector per sentence, as sentence-transformers
/// does it: the folder's `modules.json` lists the steps (Transformer → Pooling → Normalize),
/// `1_Pooling/config.json` (or the folder `modules.json` names) the pooling mode, and
/// `sentence_bert_config.json` the longest input. A folder without these files gets mean
/// pooling and normalisation, the usual choice, and says so (`source`).
public struct SentencePooling: Sendable, Equatable {
    public enum Mode: String, Sendable {
        /// The average of every token's last hidden vector ([CLS] and [SEP] included, as
        /// sentence-transformers does).
        case mean
        /// The first token's ([CLS]) vector.
        case cls
        /// The largest value of each channel over the tokens.
        case max
        /// The sum divided by √(tokens).
        case meanSqrtLength = "mean_sqrt_len"
    }
    public var mode: Mode
    /// Whether the pooled vector is scaled to length 1 (a `Normalize` module).
    public var normalizes: Bool
    /// Inputs are cut to this many tokens (`max_seq_length`), if the folder says.
    public var maximumTokens: Int?
    /// Where the settings came from, for messages ("1_Pooling/config.json", "the default: …").
    public var source: String

    public static let standard = SentencePooling(
        mode: .mean, normalizes: true, maximumTokens: nil,
        source: "no sentence-transformers files in the folder: the usual default")

    /// The pooling a model folder describes; `.standard` when it has no `modules.json`.
    public static func load(folder: URL) throws -> SentencePooling {
        let modulesURL = folder.appendingPathComponent("modules.json")
        guard FileManager.default.fileExists(atPath: modulesURL.path) else { return .standard }
        func json(_ url: URL) throws -> Any {
            let data: Data
            do { data = try RegularFile.read(url) } catch { throw ModelLoadError.unreadable(url.path, reason: error.reason) }
            guard let value = try? JSONSerialization.jsonObject(with: data) else {
                throw ModelLoadError.malformedConfig(file: url.path, problem: "not JSON")
            }
            return value
        }
        guard let modules = try json(modulesURL) as? [[String: Any]] else {
            throw ModelLoadError.malformedConfig(file: modulesURL.path, problem: "expected a list of modules")
        }
        let types = modules.compactMap { $0["type"] as? String }
        var pooling = SentencePooling(
            mode: .mean, normalizes: types.contains { $0.hasSuffix(".Normalize") }, maximumTokens: nil, source: "")
        for type in types {
            let known = [".Transformer", ".Pooling", ".Normalize"].contains { type.hasSuffix($0) }
            guard known else {
                throw ModelLoadError.unsupportedSetting(
                    file: modulesURL.path, setting: "module \(type)",
                    hint: "Lantern runs sentence encoders made of Transformer, Pooling and Normalize modules")
            }
        }
        if let entry = modules.first(where: { ($0["type"] as? String)?.hasSuffix(".Pooling") == true }) {
            let path = (entry["path"] as? String) ?? "1_Pooling"
            let url = folder.appendingPathComponent(path).appendingPathComponent("config.json")
            guard let config = try json(url) as? [String: Any] else {
                throw ModelLoadError.malformedConfig(file: url.path, problem: "expected an object of pooling settings")
            }
            let chosen = Mode.allNames.filter { config["pooling_mode_\($0.key)"] as? Bool == true }.map(\.value)
            guard chosen.count == 1, let mode = chosen.first else {
                throw ModelLoadError.unsupportedSetting(
                    file: url.path, setting: chosen.isEmpty ? "no pooling mode" : "\(chosen.count) pooling modes at once",
                    hint: "Lantern pools with exactly one of mean, cls, max, mean_sqrt_len_tokens")
            }
            pooling.mode = mode
            pooling.source = "\(path)/config.json"
        } else {
            pooling.source = "modules.json (no Pooling module: mean pooling)"
        }
        let settingsURL = folder.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: settingsURL.path), let settings = try json(settingsURL) as? [String: Any] {
            pooling.maximumTokens = (settings["max_seq_length"] as? NSNumber).map(\.intValue).flatMap { $0 > 0 ? $0 : nil }
        }
        return pooling
    }

    /// One vector `[C]` from an encoder's last hidden rows `[T, C]`.
    public func pool(_ rows: Tensor) -> [Float] {
        precondition(rows.rank == 2 && rows.shape[0] > 0, "SentencePooling.pool: rows \(rows.shape) are not [T > 0, C]")
        let T = rows.shape[0], C = rows.shape[1], x = rows.scalars
        var out = [Float](repeating: 0, count: C)
        switch mode {
        case .cls:
            out = Array(x[0..<C])
        case .max:
            out = Array(x[0..<C])
            for t in 1..<T { for c in 0..<C { out[c] = Swift.max(out[c], x[t * C + c]) } }
        case .mean, .meanSqrtLength:
            for t in 0..<T { for c in 0..<C { out[c] += x[t * C + c] } }
            let divisor = mode == .mean ? Float(T) : Float(T).squareRoot()
            for c in 0..<C { out[c] /= divisor }
        }
        if normalizes {
            // As torch.nn.functional.normalize: divided by max(‖v‖, 1e-12).
            let norm = Swift.max(out.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for c in 0..<C { out[c] /= norm }
        }
        return out
    }
}

extension SentencePooling.Mode {
    /// Config key suffix (`pooling_mode_<key>`) → mode.
    static let allNames: [String: SentencePooling.Mode] = [
        "mean_tokens": .mean, "cls_token": .cls, "max_tokens": .max, "mean_sqrt_len_tokens": .meanSqrtLength
    ]
}
