import Foundation

/// The folders where models are looked for, worked out from an environment (injectable, so
/// tests never change the process's own).
///
/// - Lantern's own folder: `$LANTERN_HOME/models`, by default `~/.lantern/models`; `lantern download`
///   writes there, one folder per model (`~/.lantern/models/gpt2/`).
/// - The Hugging Face hub cache, as the `huggingface_hub` Python library lays it out:
///   `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE` (its older name), else `$HF_HOME/hub`,
///   else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
public struct ModelLocations: Sendable, Equatable {
    public var lanternModels: URL
    public var huggingFaceHubCache: URL

    public init(lanternModels: URL, huggingFaceHubCache: URL) {
        self.lanternModels = lanternModels
        self.huggingFaceHubCache = huggingFaceHubCache
    }

    /// The folders for `environment` (by default the process's); `~` is `$HOME`, else the user's home.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func folder(_ key: String) -> URL? {
            guard let value = environment[key], !value.isEmpty else { return nil }
            return URL(fileURLWithPath: Self.expandingTilde(value, environment: environment), isDirectory: true)
        }
        let home = URL(
            fileURLWithPath: environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory(),
            isDirectory: true)
        lanternModels = (folder("LANTERN_HOME") ?? home.appendingPathComponent(".lantern", isDirectory: true))
            .appendingPathComponent("models", isDirectory: true)
        huggingFaceHubCache =
            folder("HF_HUB_CACHE") ?? folder("HUGGINGFACE_HUB_CACHE")
            ?? folder("HF_HOME")?.appendingPathComponent("hub", isDirectory: true)
            ?? folder("XDG_CACHE_HOME")?.appendingPathComponent("huggingface/hub", isDirectory: true)
            ?? home.appendingPathComponent(".cache/huggingface/hub", isDirectory: true)
    }

    /// `~/x` → `$HOME/x`.
    static func expandingTilde(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + path.dropFirst()
    }

    /// Lantern's folder for a model named `name` (a catalog name such as `gpt2`).
    public func lanternFolder(for name: String) -> URL {
        lanternModels.appendingPathComponent(name, isDirectory: true)
    }

    /// The Hugging Face cache folder of a repository: `models--openai-community--gpt2`.
    public func huggingFaceFolder(forRepo repo: String) -> URL {
        huggingFaceHubCache.appendingPathComponent(
            "models--" + repo.replacingOccurrences(of: "/", with: "--"),
            isDirectory: true)
    }

    /// A path shown to people: the home folder abbreviated to `~`.
    public static func display(_ url: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let path = url.standardizedFileURL.path
        if home.count > 1, path == home || path.hasPrefix(home.hasSuffix("/") ? home : home + "/") {
            return "~" + path.dropFirst(home.hasSuffix("/") ? home.count - 1 : home.count)
        }
        return path
    }
}
