import Foundation

/// Whether a path stays inside a folder once symbolic links are followed: a lesson's
/// `file` or `fresh:` folder may be spelled inside its folder yet lead out of it through a
/// link (`output` → `~/Documents`), and a lesson must never read or delete outside.
enum PathContainment {
    /// True when `url`, with every symbolic link in it resolved, is `folder` or lies below
    /// it. A path that does not exist yet is judged by the parts of it that do. The folder
    /// is resolved too, except, with `linkedFolderCounts: false`, its own last part: then
    /// a folder that is itself a link (`output` → elsewhere) contains nothing.
    static func isInside(_ url: URL, _ folder: URL, linkedFolderCounts: Bool = true) -> Bool {
        let folder = folder.standardizedFileURL
        let base =
            linkedFolderCounts
            ? folder.resolvingSymlinksInPath().path
            : folder.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(folder.lastPathComponent).path
        let path = resolvedExistingPart(url.standardizedFileURL)
        return path == base || path.hasPrefix(base.hasSuffix("/") ? base : base + "/")
    }

    /// Resolves the longest existing prefix of `url` and appends the rest unchanged
    /// (`resolvingSymlinksInPath` leaves a path alone when its last part is missing).
    private static func resolvedExistingPart(_ url: URL) -> String {
        var existing = url
        var missing: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path) && existing.path != "/" {
            missing.insert(existing.lastPathComponent, at: 0)
            existing.deleteLastPathComponent()
        }
        var resolved = existing.resolvingSymlinksInPath()
        for part in missing { resolved.appendPathComponent(part) }
        return resolved.path
    }
}
