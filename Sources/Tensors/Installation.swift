import Foundation

/// Where this program runs from, and what an installed copy keeps beside it.
///
/// `scripts/install.sh --prefix P` lays out `P/bin/lantern` and `P/share/lantern/` (the built-in
/// models under `models/`, the lessons under `lessons/`, the commit it was built from in
/// `commit`); the program finds them from its own path, so the checkout can go. A binary run from
/// a build folder still finds the checkout it was built from (source paths compiled in).
public enum Installation {
    /// Lantern's version; the CHANGELOG says what each one brought.
    public static let version = "0.17.0"

    /// Set to 1 to forbid every fallback into the checkout this binary was built from: the
    /// install test proves with it that an installed copy stands alone.
    public static let ignoreCheckoutVariable = "LANTERN_IGNORE_CHECKOUT"

    /// The running executable: /proc/self/exe where there is one, else argv[0] (searched in PATH).
    public static func executable() -> URL {
        if FileManager.default.fileExists(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        }
        let argument = CommandLine.arguments.first ?? "lantern"
        if argument.contains("/") { return URL(fileURLWithPath: argument).standardizedFileURL }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(argument)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return URL(fileURLWithPath: argument)
    }

    /// `PREFIX/share/lantern` for an executable at `PREFIX/bin/lantern`.
    public static func shareFolder(executable: URL = executable()) -> URL {
        executable.deletingLastPathComponent().appendingPathComponent("../share/lantern", isDirectory: true).standardizedFileURL
    }

    /// Whether lookups may fall back to the checkout this binary was built from.
    public static func usesCheckout(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment[ignoreCheckoutVariable] != "1"
    }

    /// The repository this binary was built from (Sources/Tensors/Installation.swift → root).
    public static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The commit this binary was built from: what install.sh wrote into `share/lantern/commit`,
    /// else the checkout's HEAD read from its `.git` folder; nil when neither is there.
    public static func commit(
        executable: URL = executable(), environment: [String: String] = ProcessInfo.processInfo.environment
    )
        -> String?
    {
        let installed = shareFolder(executable: executable).appendingPathComponent("commit")
        if let text = try? String(contentsOf: installed, encoding: .utf8) {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard usesCheckout(environment: environment) else { return nil }
        return headCommit(of: checkout)
    }

    /// The commit `.git/HEAD` of `repository` points at (a loose ref or one in packed-refs).
    static func headCommit(of repository: URL) -> String? {
        let git = repository.appendingPathComponent(".git")
        guard let head = try? String(contentsOf: git.appendingPathComponent("HEAD"), encoding: .utf8) else { return nil }
        let line = head.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("ref: ") else { return line.isEmpty ? nil : line }
        let ref = String(line.dropFirst(5))
        if let loose = try? String(contentsOf: git.appendingPathComponent(ref), encoding: .utf8) {
            return loose.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let packed = (try? String(contentsOf: git.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
        return packed.split(separator: "\n").first { $0.hasSuffix(" " + ref) }.map { String($0.prefix { $0 != " " }) }
    }

    /// "0.16.0 (commit 1a2b3c4d5e6f)", or the version alone when the commit is unknown.
    /// (The installed `commit` file says "HASH-modified" when the tree had uncommitted changes.)
    public static func versionLine() -> String {
        guard let commit = commit() else { return version }
        let modified = commit.hasSuffix("-modified") ? ", with uncommitted changes" : ""
        return "\(version) (commit \(commit.prefix(12))\(modified))"
    }
}
