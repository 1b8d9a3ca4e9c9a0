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
}
