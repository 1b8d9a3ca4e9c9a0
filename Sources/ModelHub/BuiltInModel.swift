import Foundation

/// Lantern's own teaching model: a small GPT-2 trained by `lantern train` on the corpus that
/// `lantern corpus` writes (how, exactly: lantern-tiny/TRAINING.md). It ships inside the package
/// as a resource of this module, so every command works on a fresh machine with no download.
public enum BuiltInModel {
    /// The name that selects it: `--model lantern-tiny` (or leaving `--model` out).
    public static let name = "lantern-tiny"
    static let resourceFolder = name

    /// The model folder, wherever this build keeps it; nil when it cannot be found.
    ///
    /// Looked for, in order: `LANTERN_BUILTIN_MODEL` (a folder), the resource bundle SwiftPM puts
    /// beside the executable (`Lantern_ModelHub.resources` on Linux, `.bundle` on macOS), then
    /// the source tree this binary was built from (a binary copied elsewhere still finds it while
    /// the checkout exists). `Bundle.module` is not used: it stops the process when the bundle is
    /// missing, and a missing model deserves a message instead.
    public static func folder(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        candidates(environment: environment).first(where: isModelFolder)
    }

    static func candidates(environment: [String: String]) -> [URL] {
        var list: [URL] = []
        if let path = environment["LANTERN_BUILTIN_MODEL"], !path.isEmpty { list.append(URL(fileURLWithPath: path, isDirectory: true)) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for directory in [executable, Bundle.main.bundleURL, Bundle.main.resourceURL].compactMap({ $0 }) {
            list.append(directory.appendingPathComponent("Lantern_ModelHub.resources").appendingPathComponent(resourceFolder))
            list.append(directory.appendingPathComponent("Lantern_ModelHub.bundle").appendingPathComponent(resourceFolder))
            list.append(
                directory.appendingPathComponent("Lantern_ModelHub.bundle/Contents/Resources").appendingPathComponent(resourceFolder))
        }
        list.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(resourceFolder))
        return list
    }

    static func isModelFolder(_ url: URL) -> Bool {
        ["config.json", "model.safetensors", "vocab.json", "merges.txt"].allSatisfy {
            FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path)
        }
    }

    /// Why it was not found, and what to do.
    public static var missingMessage: String {
        "the built-in model \(name) is not in this build (Sources/ModelHub/\(resourceFolder) in the checkout); "
            + "rebuild from a full checkout, set LANTERN_BUILTIN_MODEL to its folder, or pass --model"
    }
}
