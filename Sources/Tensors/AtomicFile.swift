import Foundation
#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#else
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// Writes a whole file so that no reader ever sees half of it and a failed write leaves
/// nothing behind: the bytes go to a hidden temporary file beside the destination, which is
/// renamed over it at the end (rename(2) replaces in one step).
///
/// Only plain files are replaced that way. A destination that is a device, a pipe or a
/// socket (`/dev/stdout`, `/dev/null`, a FIFO) is written into, as a shell redirection
/// would — renaming over it would swap the device node for a plain file. A symbolic link
/// is followed: the file it points to is replaced and the link stays. A folder is refused.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        /// The path that could not be written (the destination or its folder).
        public let path: String
        /// A plain phrase: "no space left on device", "/x/y is a file, not a folder".
        public let reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Writes `data` to `url`, creating its folder when missing.
    public static func write(_ data: Data, to url: URL) throws(Failure) {
        var info = stat()
        if stat(url.path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                // Through any links to the real file, so the links survive.
                let real = url.resolvingSymlinksInPath()
                try replace(real, with: data)
            case S_IFDIR:
                throw Failure(path: url.path, reason: "it is a folder; give a file name")
            default:
                try writeInto(url, data)
            }
            return
        }
        // A link whose target is missing: writing would either replace the link or create a
        // file wherever it points; neither is what was asked.
        if lstat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK {
            throw Failure(
                path: url.path, reason: "it is a symbolic link to something that does not exist; remove the link or give another name")
        }
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw Failure(path: folder.path, reason: PlainError.blockedFolder(folder) ?? PlainError.reason(error))
        }
        try replace(url, with: data)
    }

    /// Writes files that belong together (a tokenizer's vocab.json and merges.txt): each is
    /// written whole into its temporary file first, and only when all are complete are they
    /// renamed into place, so a failure while writing leaves every destination as it was.
    /// Destinations must be plain files or new names (a device or pipe is refused here).
    public static func writeTogether(_ files: [(data: Data, url: URL)]) throws(Failure) {
        var staged: [(temporary: URL, destination: URL)] = []
        defer { for file in staged { unlink(file.temporary.path) } }  // after a rename: nothing left to remove
        for (data, url) in files {
            var info = stat()
            var destination = url
            if stat(url.path, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFREG else {
                    throw Failure(
                        path: url.path,
                        reason: info.st_mode & S_IFMT == S_IFDIR
                            ? "it is a folder; give a file name"
                            : "it is not a plain file")
                }
                destination = url.resolvingSymlinksInPath()
            } else if lstat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK {
                throw Failure(
                    path: url.path, reason: "it is a symbolic link to something that does not exist; remove the link or give another name")
            }
            staged.append((try stage(data, beside: destination), destination))
        }
        for file in staged {
            guard rename(file.temporary.path, file.destination.path) == 0 else {
                throw Failure(path: file.destination.path, reason: errnoPhrase())
            }
        }
    }

    /// Temporary file beside `url`, then a rename over it.
    private static func replace(_ url: URL, with data: Data) throws(Failure) {
        let temporary = try stage(data, beside: url)
        guard rename(temporary.path, url.path) == 0 else {
            let reason = errnoPhrase()
            unlink(temporary.path)
            throw Failure(path: url.path, reason: reason)
        }
    }

    /// `data` in a new hidden file beside `url`, whole (removed again if anything fails).
    private static func stage(_ data: Data, beside url: URL) throws(Failure) -> URL {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            try writeInto(temporary, data, create: true)
        } catch {
            unlink(temporary.path)
            throw Failure(path: error.path == temporary.path ? folder.path : error.path, reason: error.reason)
        }
        return temporary
    }

    /// Writes every byte through a plain file descriptor (a new file when `create`), so errors
    /// such as a full disk are seen rather than lost in a buffer.
    private static func writeInto(_ url: URL, _ data: Data, create: Bool = false) throws(Failure) {
        // O_NONBLOCK only for the open: a pipe nobody reads is an error, not a hang.
        let flags = create ? (O_WRONLY | O_CREAT | O_EXCL) : (O_WRONLY | O_NONBLOCK | (0 as Int32))
        let descriptor = open(url.path, flags, 0o644)
        guard descriptor >= 0 else {
            let reason = errno == ENXIO ? "it is a pipe that nobody is reading" : errnoPhrase()
            throw Failure(path: url.path, reason: reason)
        }
        defer { close(descriptor) }
        if !create { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK) }
        let failure: Int32? = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int32? in
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure { throw Failure(path: url.path, reason: String(cString: strerror(failure)).lowercased()) }
    }

    private static func errnoPhrase() -> String { String(cString: strerror(errno)).lowercased() }
}
