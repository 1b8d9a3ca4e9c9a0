import Foundation

/// File-system errors as a plain phrase for messages ("permission denied", "no space left on
/// device"), never Foundation's error domains and codes: the user needs the cause, not the API.
public enum PlainError {
    /// Why `folder` cannot be created when an existing part of its path is a file (Foundation
    /// reports only "error 512" then), or nil.
    public static func blockedFolder(_ folder: URL) -> String? {
        var url = folder.standardizedFileURL
        while url.path != "/" && !url.path.isEmpty {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                return isDirectory.boolValue ? nil : "\(url.path) is a file, not a folder"
            }
            url = url.deletingLastPathComponent()
        }
        return nil
    }

    public static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code))).lowercased()
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))).lowercased() }
        switch nsError.code {
        case NSFileWriteOutOfSpaceError: return "the disk is full"
        case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
        case NSFileWriteVolumeReadOnlyError: return "the disk is read-only"
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
        case NSFileWriteFileExistsError: return "something else is already there"
        default: return "the file system refused (\(nsError.localizedDescription))"
        }
    }

    /// A JSON decoding failure in one line: where in the document, and what ("\"prompt_ids\"
    /// should be a list", "\"format\" is missing", "Unexpected end of file"), never the
    /// decoder's own dump. `snakeCaseKeys`: the decoder converted the file's snake_case keys,
    /// so they are shown as the file spells them.
    public static func decoding(_ error: Error, in data: Data, snakeCaseKeys: Bool = false) -> String {
        guard let error = error as? DecodingError else { return reason(error) }
        func key(_ key: CodingKey) -> String {
            if let index = key.intValue { return "[\(index)]" }
            guard snakeCaseKeys else { return "\"\(key.stringValue)\"" }
            let snake = key.stringValue.reduce(into: "") { out, c in out += c.isUppercase ? "_" + c.lowercased() : String(c) }
            return "\"\(snake)\""
        }
        func place(_ path: [CodingKey]) -> String {
            path.isEmpty ? "the top level" : path.map(key).joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type, is UInt64.Type, is Int32.Type: "a whole number"
            case is Float.Type, is Double.Type: "a number"
            case is String.Type: "text"
            case is Bool.Type: "true or false"
            default: "\(type)".hasPrefix("Array") ? "a list" : "\(type)".hasPrefix("Dictionary") ? "an object" : "a \(type)"
            }
        }
        switch error {
        case .dataCorrupted(let context):
            // JSONDecoder does not say where the syntax breaks; JSONSerialization does
            // ("Unexpected end of file", "Invalid value around character 8").
            do { _ = try JSONSerialization.jsonObject(with: data) } catch {
                if let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String {
                    return "not valid JSON: " + (detail.hasSuffix(".") ? String(detail.dropLast()) : detail)
                }
                return "not valid JSON"
            }
            return "\(place(context.codingPath)) holds an impossible value"
        case .keyNotFound(let missing, let context):
            return "\(place(context.codingPath + [missing])) is missing"
        case .typeMismatch(let type, let context):
            return "\(place(context.codingPath)) should be \(kind(type))"
        case .valueNotFound(let type, let context):
            return "\(place(context.codingPath)) should be \(kind(type)), found null"
        @unknown default:
            return "not in the expected form"
        }
    }
}
