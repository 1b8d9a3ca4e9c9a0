import Foundation

/// Saves the files of one checkpoint (weights, config, optimiser moments, training state) so
/// that a reader only ever sees all of them from one step, however the save is interrupted
/// (a second Ctrl-C exits at once, wherever the save is).
///
/// The files are written into a staging folder inside the checkpoint folder; renaming it to
/// a "committed" name is the single moment the new set becomes the checkpoint. Its files are
/// then moved over the old ones one by one. An interruption before the commit leaves the old
/// set whole (the staging folder is discarded later); one after it is finished by `recover`,
/// which every save and every resume runs first. Other files in the folder (loss.png,
/// snapshots, the tokenizer) are never touched.
enum CheckpointUnit {
    static let stagingPrefix = ".checkpoint-staging-", committedPrefix = ".checkpoint-committed-"

    /// Writes the set with `write` (given the staging folder) and makes it the checkpoint.
    static func save(into folder: URL, write: (URL) throws -> Void) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try recover(folder)
        let staging = folder.appendingPathComponent(stagingPrefix + UUID().uuidString)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        do { try write(staging) } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        let committed = folder.appendingPathComponent(committedPrefix + UUID().uuidString)
        try rename(staging, committed)  // the commit
        try moveIn(committed, to: folder)
    }

    /// Finishes a save that was committed but not fully moved in, and discards staging
    /// folders of saves that never committed.
    static func recover(_ folder: URL) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasPrefix(committedPrefix) {
            try moveIn(folder.appendingPathComponent(name), to: folder)
        }
        for name in names where name.hasPrefix(stagingPrefix) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// Moves every file of `committed` over its namesake in `folder` (each rename atomic), then
    /// removes `committed`. Safe to repeat after an interruption: moved files are gone from it.
    private static func moveIn(_ committed: URL, to folder: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: committed.path).sorted() {
            try rename(committed.appendingPathComponent(name), folder.appendingPathComponent(name))
        }
        try FileManager.default.removeItem(at: committed)
    }

    private static func rename(_ from: URL, _ to: URL) throws {
        guard Foundation.rename(from.path, to.path) == 0 else {
            throw TrainingError.unwritableCheckpoint(
                folder: to.deletingLastPathComponent().path,
                problem: String(cString: strerror(errno)))
        }
    }
}
