import Foundation

/// Reads a file a user named (weights, config, arrays), refusing what is not a regular file
/// with a plain sentence: a folder, a pipe or a device (`--model /dev/zero` would never end,
/// and Foundation reports those as "You don't have permission" inside an NSError dump).
public enum RegularFile {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }

    /// The whole file; `mapped` maps it into memory instead of copying (large weights).
    public static func read(_ url: URL, mapped: Bool = false) throws(Failure) -> Data {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw Failure(path: url.path, reason: String(cString: strerror(errno)).lowercased())
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw Failure(path: url.path, reason: "it is a folder, not a file")
        case S_IFIFO: throw Failure(path: url.path, reason: "it is a pipe, not a file")
        default: throw Failure(path: url.path, reason: "it is a device, not a file")
        }
        do {
            return try Data(contentsOf: url, options: mapped ? .alwaysMapped : [])
        } catch {
            throw Failure(path: url.path, reason: PlainError.reason(error))
        }
    }
}
