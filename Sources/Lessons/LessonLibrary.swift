import Foundation
import Tensors

/// A lesson folder: its manifest and the lessons it lists, and the checks `lantern lesson --check` runs.
public struct LessonLibrary: Sendable {
    public let folder: URL
    public let manifest: LessonManifest

    public static let manifestName = "manifest.json"

    public enum LoadError: Error, CustomStringConvertible {
        case issues([LessonIssue])
        public var description: String {
            switch self {
            case .issues(let list): list.map(\.description).joined(separator: "\n")
            }
        }
    }

    /// Reads the manifest; problems come back as issues naming manifest.json.
    public init(folder: URL) throws {
        self.folder = folder
        let url = folder.appendingPathComponent(Self.manifestName)
        let name = Self.display(url)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw LoadError.issues([LessonIssue(file: name, line: 0, problem: "cannot read the lesson manifest")])
        }
        do {
            manifest = try JSONDecoder().decode(LessonManifest.self, from: data)
        } catch {
            throw LoadError.issues([LessonIssue(file: name, line: 0, problem: PlainError.decoding(error, in: data))])
        }
        guard !manifest.lessons.isEmpty else {
            throw LoadError.issues([LessonIssue(file: name, line: 0, problem: "\"lessons\" is empty: list at least one lesson")])
        }
        // Lesson files live in the lessons folder: no absolute paths, no way out through "..".
        let outside = manifest.lessons.filter { $0.file.hasPrefix("/") || $0.file.split(separator: "/").contains("..") }
        guard outside.isEmpty else {
            throw LoadError.issues(
                outside.map {
                    LessonIssue(
                        file: name, line: 0, problem: "lesson \"\($0.id)\": file \"\($0.file)\" must be a path inside the lessons folder")
                })
        }
    }

    /// A path shown in messages: relative to the current folder when inside it.
    public static func display(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    }

    public var entries: [LessonManifest.Entry] { manifest.lessons }

    /// The entry for "5", "05" or an id such as "attention".
    public func entryIndex(for selector: String) -> Int? {
        if let n = Int(selector), entries.indices.contains(n - 1) { return n - 1 }
        return entries.firstIndex { $0.id == selector }
    }

    public func url(of entry: LessonManifest.Entry) -> URL { folder.appendingPathComponent(entry.file) }

    /// Parses one lesson; issues name its file and line.
    public func parse(_ entry: LessonManifest.Entry) -> LessonParser.Result {
        let url = url(of: entry)
        let name = Self.display(url)
        guard PathContainment.isInside(url, folder) else {
            return LessonParser.Result(
                lesson: Lesson(file: name, title: entry.title, blocks: []),
                issues: [
                    LessonIssue(
                        file: name, line: 0,
                        problem: "this lesson file is a symbolic link out of the lessons folder; lessons are read only from inside it")
                ])
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return LessonParser.Result(
                lesson: Lesson(file: name, title: entry.title, blocks: []),
                issues: [LessonIssue(file: name, line: 0, problem: "cannot read this lesson file")])
        }
        return LessonParser.parse(String(decoding: data, as: UTF8.self), file: name)
    }

    // MARK: - Lint

    /// Everything `--check` looks at: the manifest (format, ids, files, every lesson file registered),
    /// every block of every lesson, and every command (through `validate`, which returns the problem
    /// with a command's words, or nil when the command line tool accepts them).
    public func lint(validate: ([String]) -> String?) -> [LessonIssue] {
        let manifestURL = folder.appendingPathComponent(Self.manifestName)
        let manifestName = Self.display(manifestURL)
        let manifestText = (try? String(contentsOf: manifestURL, encoding: .utf8)) ?? ""
        func line(of value: String) -> Int {
            let lines = manifestText.components(separatedBy: "\n")
            return (lines.firstIndex { $0.contains("\"\(value)\"") } ?? -1) + 1
        }
        var issues: [LessonIssue] = []
        if manifest.format != LessonManifest.supportedFormat {
            issues.append(
                LessonIssue(
                    file: manifestName, line: line(of: "format"),
                    problem: "format \(manifest.format) is not supported (this lantern reads format \(LessonManifest.supportedFormat))"))
        }
        if manifest.lessons.isEmpty { issues.append(LessonIssue(file: manifestName, line: 0, problem: "lists no lessons")) }
        var seenIds: Set<String> = [], seenFiles: Set<String> = []
        for entry in manifest.lessons {
            if entry.id.isEmpty || !entry.id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
                issues.append(
                    LessonIssue(
                        file: manifestName, line: line(of: entry.id), problem: "lesson id \"\(entry.id)\" must be letters, digits, - and _")
                )
            }
            if !seenIds.insert(entry.id).inserted {
                let lines = manifestText.components(separatedBy: "\n").enumerated().filter { $0.element.contains("\"\(entry.id)\"") }
                issues.append(
                    LessonIssue(
                        file: manifestName, line: (lines.dropFirst().first?.offset ?? -1) + 1,
                        problem: "lesson id \"\(entry.id)\" is used twice"))
            }
            if !seenFiles.insert(entry.file).inserted {
                issues.append(LessonIssue(file: manifestName, line: line(of: entry.file), problem: "\(entry.file) is listed twice"))
            }
            if entry.title.trimmingCharacters(in: .whitespaces).isEmpty || entry.summary.trimmingCharacters(in: .whitespaces).isEmpty {
                issues.append(
                    LessonIssue(file: manifestName, line: line(of: entry.id), problem: "lesson \(entry.id) needs a title and a summary"))
            }
            guard FileManager.default.fileExists(atPath: url(of: entry).path) else {
                issues.append(
                    LessonIssue(
                        file: manifestName, line: line(of: entry.file), problem: "\(entry.file) does not exist in \(Self.display(folder))"))
                continue
            }
            let result = parse(entry)
            issues += result.issues
            issues += lintContent(result.lesson, validate: validate)
        }
        // Every Markdown file in the folder is a lesson the manifest must list.
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for file in files.sorted() where file.hasSuffix(".md") && file.lowercased() != "readme.md" && !seenFiles.contains(file) {
            issues.append(
                LessonIssue(
                    file: Self.display(folder.appendingPathComponent(file)), line: 1,
                    problem: "this lesson file is not registered in \(Self.manifestName)"))
        }
        return issues
    }

    /// Each lesson runs at least one command and asks at least one question; every command parses.
    func lintContent(_ lesson: Lesson, validate: ([String]) -> String?) -> [LessonIssue] {
        var issues: [LessonIssue] = []
        var commands: [CommandStep] = []
        for block in lesson.blocks {
            switch block {
            case .command(let step): commands.append(step)
            case .question(let question): if let step = question.command { commands.append(step) }
            default: break
            }
        }
        if commands.isEmpty { issues.append(LessonIssue(file: lesson.file, line: 1, problem: "the lesson runs no ```lantern command")) }
        if lesson.questions.isEmpty { issues.append(LessonIssue(file: lesson.file, line: 1, problem: "the lesson asks no ```question")) }
        for step in commands where !step.arguments.isEmpty {
            // References stand for values known only when the lesson runs: check with a stand-in.
            let words = step.arguments.map {
                let standIns = Dictionary(uniqueKeysWithValues: Interpolation.references(in: $0).map { ($0, "1") })
                return Interpolation.fill($0, standIns.merging(Interpolation.builtInValues(folder: folder)) { $1 })
            }
            if let problem = validate(words) {
                issues.append(
                    LessonIssue(
                        file: lesson.file, line: step.line,
                        problem: "`lantern \(CommandWords.join(step.arguments))` is not a valid command: \(problem)"))
            }
        }
        return issues
    }
}

/// Where lessons are found, in order: `--lessons DIR`, `$LANTERN_LESSONS`, `./lessons` (running
/// from the repository, e.g. with `swift run`), `lessons/` beside the executable or in
/// `../share/lantern/lessons` from it (an installed copy), and finally the checkout this binary was
/// built from (so a binary copied elsewhere still finds them while the checkout exists).
public enum LessonLocator {
    public static func candidates(explicit: String?, environment: [String: String], executable: URL?) -> [URL] {
        if let explicit { return [URL(fileURLWithPath: (explicit as NSString).expandingTildeInPath, isDirectory: true)] }
        var list: [URL] = []
        if let env = environment["LANTERN_LESSONS"], !env.isEmpty {
            return [URL(fileURLWithPath: (env as NSString).expandingTildeInPath, isDirectory: true)]
        }
        list.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true).appendingPathComponent("lessons"))
        if let executable {
            let resolved = executable.resolvingSymlinksInPath()
            list.append(resolved.deletingLastPathComponent().appendingPathComponent("lessons"))
            list.append(Installation.shareFolder(executable: resolved).appendingPathComponent("lessons"))
        }
        if Installation.usesCheckout(environment: environment) {
            list.append(Installation.checkout.appendingPathComponent("lessons"))
        }
        return list
    }

    /// The first candidate with a manifest, or nil.
    public static func find(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL?
    ) -> URL? {
        candidates(explicit: explicit, environment: environment, executable: executable).first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent(LessonLibrary.manifestName).path)
        }
    }

    public static var notFoundMessage: String {
        "cannot find the lessons (a folder with \(LessonLibrary.manifestName)): run from the repository, "
            + "pass --lessons DIR, or set LANTERN_LESSONS to the repository's lessons/ folder"
    }
}
