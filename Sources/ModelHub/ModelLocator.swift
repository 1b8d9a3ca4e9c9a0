import Foundation

/// A model found on this machine.
public struct LocalModel: Sendable, Equatable {
    public enum Origin: String, Sendable {
        /// Lantern's own models folder (`~/.lantern/models/<name>`).
        case lantern
        /// The Hugging Face hub cache (`~/.cache/huggingface/hub/models--<org>--<name>/snapshots/<revision>`).
        case huggingFaceCache = "huggingface-cache"
    }

    /// The name to pass to `--model`: a folder name in Lantern's folder, a repository id in the cache.
    public var name: String
    public var origin: Origin
    /// The model folder (for the cache: the chosen snapshot).
    public var folder: URL
    /// What the model loader should open: the folder, or the llama2.c checkpoint file inside it.
    public var loadPath: URL
    /// `config.json`'s `model_type` (`gpt2`, `llama`, …), or `llama` for a llama2.c checkpoint; nil if unknown.
    public var family: String?
    /// The snapshot's revision (a commit hash) for the cache; nil for Lantern's folder.
    public var revision: String?
}

/// Finds models by name in Lantern's folder and in the Hugging Face hub cache.
///
/// A name is looked for, in order:
/// 1. in Lantern's folder: `<models>/<catalog name>`, then `<models>/<name as typed>`;
/// 2. in the Hugging Face cache, under every repository id the name may mean: for a catalog
///    model its repository and legacy ids (`gpt2` → `openai-community/gpt2`, then `gpt2`),
///    otherwise the name itself as a repository id (`TinyLlama/TinyLlama-1.1B`).
/// In a cache folder, the snapshot named by `refs/main` is used, else the newest snapshot.
public struct ModelLocator: Sendable {
    public var locations: ModelLocations
    public var catalog: ModelCatalog

    public init(locations: ModelLocations = ModelLocations(), catalog: ModelCatalog = .builtIn) {
        self.locations = locations
        self.catalog = catalog
    }

    /// Whether `text` reads as a model name (`gpt2`, `openai-community/gpt2`) rather than a path:
    /// one or two components of letters, digits, `-`, `_` and `.`, not starting with `.` or `~`.
    public static func isModelName(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && !part.hasPrefix(".")
                && part.allSatisfy { character in
                    character.isASCII && (character.isLetter || character.isNumber || "-_.".contains(character))
                }
        }
    }

    /// The local model `name` means, or nil if it is not on this machine.
    public func locate(_ name: String) -> LocalModel? {
        guard Self.isModelName(name) else { return nil }
        let entry = catalog.entry(named: name)
        for folderName in unique([entry?.name, name].compactMap { $0 }) {
            let folder = locations.lanternFolder(for: folderName)
            if let model = lanternModel(at: folder, name: folderName, entry: entry) { return model }
        }
        let repos = entry?.hubRepositories ?? [name]
        for repo in unique(repos) {
            if let model = cachedModel(repo: repo, entry: entry) { return model }
        }
        return nil
    }

    /// Every model in Lantern's folder and in the Hugging Face cache, Lantern's first, each sorted by name.
    public func localModels() -> [LocalModel] {
        let fileManager = FileManager.default
        var found: [LocalModel] = []
        let lanternNames = ((try? fileManager.contentsOfDirectory(atPath: locations.lanternModels.path)) ?? [])
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(Downloader.stagingSuffix) }.sorted()
        for name in lanternNames {
            if let model = lanternModel(at: locations.lanternFolder(for: name), name: name, entry: catalog.entry(named: name)) {
                found.append(model)
            }
        }
        let cacheFolders = ((try? fileManager.contentsOfDirectory(atPath: locations.huggingFaceHubCache.path)) ?? [])
            .filter { $0.hasPrefix("models--") }.sorted()
        for folder in cacheFolders {
            let repo = String(folder.dropFirst("models--".count)).replacingOccurrences(of: "--", with: "/")
            if let model = cachedModel(repo: repo, entry: nil, requireLoadable: false) { found.append(model) }
        }
        return found
    }

    /// Total bytes of the files in a model folder, following the cache's symbolic links to its blobs.
    public static func size(of folder: URL) -> Int64 {
        var total: Int64 = 0
        let keys: [URLResourceKey] = [.isDirectoryKey]
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys) else { return 0 }
        for case let url as URL in walker {
            let resolved = url.resolvingSymlinksInPath()
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved.path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let size = attributes[.size] as? NSNumber
            else { continue }
            total += size.int64Value
        }
        return total
    }

    // MARK: - Lantern's folder

    func lanternModel(at folder: URL, name: String, entry: CatalogEntry?) -> LocalModel? {
        guard let loadPath = Self.loadPath(in: folder, preferring: entry?.llama2cCheckpoint) else { return nil }
        return LocalModel(
            name: name, origin: .lantern, folder: folder, loadPath: loadPath,
            family: Self.family(in: folder, loadPath: loadPath), revision: nil)
    }

    /// A Hugging Face folder loads as a folder; a folder holding a llama2.c checkpoint loads through that file.
    static func loadPath(in folder: URL, preferring checkpoint: String?) -> URL? {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        if fileManager.fileExists(atPath: folder.appendingPathComponent("config.json").path) { return folder }
        if let checkpoint {
            // A catalog model names its checkpoint: a folder holding only other checkpoints is not it.
            let file = folder.appendingPathComponent(checkpoint)
            return fileManager.fileExists(atPath: file.path) ? file : nil
        }
        let checkpoints = ((try? fileManager.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".bin") && !$0.hasPrefix("tok") && !$0.hasPrefix(".") }.sorted()
        return checkpoints.first.map { folder.appendingPathComponent($0) }
    }

    static func family(in folder: URL, loadPath: URL) -> String? {
        if loadPath != folder { return "llama" }  // a llama2.c checkpoint
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("config.json")),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        if let type = json["model_type"] as? String { return type }
        return (json["architectures"] as? [String])?.first
    }

    // MARK: - The Hugging Face cache

    /// The snapshot of a cached repository: the one `refs/main` names, else the newest.
    public func snapshot(ofRepo repo: String) -> (folder: URL, revision: String)? {
        let repoFolder = existingCacheFolder(forRepo: repo)
        let snapshots = repoFolder.appendingPathComponent("snapshots", isDirectory: true)
        let fileManager = FileManager.default
        if let main = try? String(contentsOf: repoFolder.appendingPathComponent("refs/main"), encoding: .utf8) {
            let revision = main.trimmingCharacters(in: .whitespacesAndNewlines)
            let folder = snapshots.appendingPathComponent(revision, isDirectory: true)
            if !revision.isEmpty, !revision.contains("/"), fileManager.fileExists(atPath: folder.path) { return (folder, revision) }
        }
        let revisions = ((try? fileManager.contentsOfDirectory(atPath: snapshots.path)) ?? []).filter { !$0.hasPrefix(".") }
        let dated = revisions.map { revision -> (String, Date) in
            let date =
                (try? fileManager.attributesOfItem(atPath: snapshots.appendingPathComponent(revision).path))?[.modificationDate] as? Date
            return (revision, date ?? .distantPast)
        }
        // Newest first; the name breaks ties so the choice never depends on directory order.
        guard let newest = dated.max(by: { ($0.1, $0.0) < ($1.1, $1.0) }) else { return nil }
        return (snapshots.appendingPathComponent(newest.0, isDirectory: true), newest.0)
    }

    /// The cache folder of `repo`; repository ids are case-insensitive on the hub, folder names are not.
    func existingCacheFolder(forRepo repo: String) -> URL {
        let exact = locations.huggingFaceFolder(forRepo: repo)
        if FileManager.default.fileExists(atPath: exact.path) { return exact }
        let wanted = exact.lastPathComponent.lowercased()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: locations.huggingFaceHubCache.path)) ?? []
        if let match = names.sorted().first(where: { $0.lowercased() == wanted }) {
            return locations.huggingFaceHubCache.appendingPathComponent(match, isDirectory: true)
        }
        return exact
    }

    func cachedModel(repo: String, entry: CatalogEntry?, requireLoadable: Bool = true) -> LocalModel? {
        guard let (folder, revision) = snapshot(ofRepo: repo) else { return nil }
        let loadPath = Self.loadPath(in: folder, preferring: entry?.llama2cCheckpoint)
        if requireLoadable && loadPath == nil { return nil }
        return LocalModel(
            name: repo, origin: .huggingFaceCache, folder: folder, loadPath: loadPath ?? folder,
            family: loadPath.flatMap { Self.family(in: folder, loadPath: $0) }, revision: revision)
    }

    private func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
