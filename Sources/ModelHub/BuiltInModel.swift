import Tensors
import Foundation

/// Lantern's own teaching models, trained by `lantern train` on the corpus that `lantern corpus`
/// writes (how, exactly: each folder's TRAINING.md). They ship inside the package as resources of
/// this module, so every command works on a fresh machine with no download:
/// - `lantern-tiny`, a small GPT-2 (a decoder): the default `--model`;
/// - `lantern-tiny-encoder`, a small BERT (an encoder) trained to fill in masked words: the
///   default of `lantern fill` and `lantern embed`;
/// - `lantern-tiny-translate`, a small BART (an encoder–decoder) trained to translate the
///   corpus's toy "French" into English.
public struct BuiltInModel: Sendable, Equatable {
    /// The name that selects it (`--model lantern-tiny`), also its resource folder's name.
    public let name: String
    /// Files its folder must hold.
    let requiredFiles: [String]

    public static let teaching = BuiltInModel(
        name: "lantern-tiny", requiredFiles: ["config.json", "model.safetensors", "vocab.json", "merges.txt"])
    public static let encoder = BuiltInModel(
        name: "lantern-tiny-encoder", requiredFiles: ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt"])
    public static let translator = BuiltInModel(
        name: "lantern-tiny-translate", requiredFiles: ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt"])
    public static let all = [teaching, encoder, translator]

    /// The default model's name (`--model` left out): the teaching decoder.
    public static var name: String { teaching.name }

    /// The built-in model `name` selects, if any.
    public static func named(_ name: String) -> BuiltInModel? { all.first { $0.name == name } }

    /// The model folder, wherever this build keeps it; nil when it cannot be found.
    ///
    /// Looked for, in order: `LANTERN_BUILTIN_MODEL` (a folder holding the model's folder, or,
    /// for the teaching model, the model folder itself), an installed copy's
    /// `PREFIX/share/lantern/models/NAME`, the resource bundle SwiftPM puts beside
    /// the executable (`Lantern_ModelHub.resources` on Linux, `.bundle` on macOS), then the source
    /// tree this binary was built from (a binary copied elsewhere still finds it while the
    /// checkout exists). `Bundle.module` is not used: it stops the process when the bundle is
    /// missing, and a missing model deserves a message instead.
    public func folder(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        candidates(environment: environment).first(where: isModelFolder)
    }

    func candidates(environment: [String: String]) -> [URL] {
        var list: [URL] = []
        if let path = environment["LANTERN_BUILTIN_MODEL"], !path.isEmpty {
            let given = URL(fileURLWithPath: path, isDirectory: true)
            list.append(given.appendingPathComponent(name))
            if self == .teaching { list.append(given) }
        }
        let executable = Installation.executable()
        // An installed copy (scripts/install.sh): PREFIX/share/lantern/models/NAME.
        list.append(Installation.shareFolder(executable: executable).appendingPathComponent("models").appendingPathComponent(name))
        for directory in [executable.deletingLastPathComponent(), Bundle.main.bundleURL, Bundle.main.resourceURL].compactMap({ $0 }) {
            list.append(directory.appendingPathComponent("Lantern_ModelHub.resources").appendingPathComponent(name))
            list.append(directory.appendingPathComponent("Lantern_ModelHub.bundle").appendingPathComponent(name))
            list.append(directory.appendingPathComponent("Lantern_ModelHub.bundle/Contents/Resources").appendingPathComponent(name))
        }
        if Installation.usesCheckout(environment: environment) {
            list.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name))
        }
        return list
    }

    func isModelFolder(_ url: URL) -> Bool {
        requiredFiles.allSatisfy { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    /// Why it was not found, and what to do.
    public var missingMessage: String {
        "the built-in model \(name) is not in this build (Sources/ModelHub/\(name) in the checkout); "
            + "rebuild from a full checkout (or reinstall with scripts/install.sh), set LANTERN_BUILTIN_MODEL to its folder, "
            + "or set \(UserSetting.model) to another model"
    }
}
