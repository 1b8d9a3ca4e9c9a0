import Tensors
import Foundation

/// Everything that can go wrong while finding or downloading a model, each printed as one line
/// with what to do about it.
public enum ModelHubError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// `lantern download NAME` with a name outside the catalog.
    case unknownModel(String, known: [String])
    /// A catalog model was named that is neither in Lantern's folder nor in the Hugging Face cache.
    case notDownloaded(String, searched: [String])
    /// No connection to the server could be made (offline, DNS failure, refused, timed out).
    case unreachable(host: String, reason: String)
    /// The server answered with an HTTP error.
    case httpStatus(file: String, url: String, status: Int)
    /// The transfer stopped before the whole file arrived; what arrived is kept for resuming.
    case interrupted(file: String, received: Int64, expected: Int64?, reason: String)
    /// The file is not the size it should be.
    case sizeMismatch(file: String, expected: Int64, found: Int64)
    /// The file's SHA-256 is not the one published for it.
    case checksumMismatch(file: String, expected: String, found: String)
    /// The server answered with a web page where a model file was expected.
    case webPageInsteadOfFile(file: String)
    /// A file with no published checksum whose content cannot be what its name says.
    case malformedFile(file: String, problem: String)
    /// Reading or writing the model folders failed.
    case fileSystem(path: String, problem: String)
    /// The built-in model's folder is not where this build expects it.
    case builtInMissing(BuiltInModel)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            return "no downloadable model named \(name): choose one of \(known.joined(separator: ", ")) (see `lantern models`)"
        case .notDownloaded(let name, let searched):
            return "model \(name) is not on this machine (looked in \(searched.joined(separator: " and "))): "
                + "run `lantern download \(name)`, or set \(UserSetting.model) to a model folder"
        case .unreachable(let host, let reason):
            return "cannot reach \(host) (\(reason)): check your internet connection, or use a model folder "
                + "already on this machine (set \(UserSetting.model))"
        case .httpStatus(let file, let url, let status):
            let hint: String
            switch status {
            case 401, 403: hint = "the repository may be private or gated"
            case 404: hint = "the file is not published there"
            case 500...599: hint = "the server has a problem; try again later"
            default: hint = "try again later"
            }
            return "downloading \(file) failed: \(url) answered HTTP \(status) (\(hint))"
        case .interrupted(let file, let received, let expected, let reason):
            let of = expected.map { " of \(ByteCount.format($0))" } ?? ""
            return "download of \(file) interrupted after \(ByteCount.format(received))\(of) (\(reason)): "
                + "run the same command again to resume where it stopped"
        case .sizeMismatch(let file, let expected, let found):
            return
                "\(file) is \(found) bytes but should be \(expected): the damaged file was deleted; run the command again to download it afresh"
        case .checksumMismatch(let file, let expected, let found):
            return "\(file) failed its checksum (sha256 \(found), expected \(expected)): "
                + "the damaged file was deleted; run the command again to download it afresh"
        case .webPageInsteadOfFile(let file):
            return "the server sent a web page instead of \(file) (an error or sign-in page): it was not kept; "
                + "check that the model is public and the address right, then run the command again"
        case .malformedFile(let file, let problem):
            return "the server sent something that is not \(file) (\(problem)): it was not kept; "
                + "check that the model is public and the address right, then run the command again"
        case .fileSystem(let path, let problem):
            return "\(path): \(problem)"
        case .builtInMissing(let model):
            return model.missingMessage
        }
    }

    public var errorDescription: String? { description }
}

/// Byte counts for people: decimal units, as download sizes are usually quoted.
public enum ByteCount {
    /// `548105171` → `548.1 MB`; `999` → `999 B`.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
