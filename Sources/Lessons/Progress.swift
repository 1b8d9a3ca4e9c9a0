import Foundation
import Tensors

/// What a learner has done, per lesson id. Kept in `progress.json` in Lantern's home folder
/// (`$LANTERN_HOME`, else `~/.lantern`), written atomically; `lantern lesson reset` clears it.
public struct LessonProgress: Codable, Sendable, Equatable {
    public struct QuestionRecord: Codable, Sendable, Equatable {
        /// Answers given (right or wrong; skips not counted).
        public var attempts = 0
        public var wrong = 0
        public var correct = false
        public var skipped = false
        /// The learner's answers in order (the last few).
        public var answers: [String] = []
        /// Whether the first answer the last time the question was asked was right: what the score
        /// counts (a right answer after a wrong one, or a skip, is not). nil in progress written
        /// before it was recorded.
        public var firstTry: Bool?
        /// The answer was shown (after a wrong answer, a skip, or a prediction's command ran): the
        /// question is not asked again when the lesson resumes.
        public var revealed: Bool?

        public init() {}

        /// Right at the first try (for older records: right without any wrong answer).
        public var rightFirstTime: Bool { firstTry ?? (correct && wrong == 0) }
    }

    public struct LessonRecord: Codable, Sendable, Equatable {
        public var started: String?
        public var finished: String?
        /// The block to resume at (0 = the beginning).
        public var position = 0
        public var questions: [String: QuestionRecord] = [:]

        public init() {}

        /// The questions answered right at the first try: the lesson's score.
        public var correctCount: Int { questions.values.filter(\.rightFirstTime).count }
    }

    public var about = "Lantern lesson progress, written by `lantern lesson`. Do not edit: use `lantern lesson reset`."
    public var format = 1
    public var lessons: [String: LessonRecord] = [:]

    public init() {}

    public subscript(id: String) -> LessonRecord {
        get { lessons[id] ?? LessonRecord() }
        set { lessons[id] = newValue }
    }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date())
    }
}

public struct ProgressStore: Sendable {
    public let file: URL

    public init(file: URL) { self.file = file }

    /// `$LANTERN_HOME/progress.json`, else `~/.lantern/progress.json` (`$HOME` first, as for models).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let home = environment["LANTERN_HOME"], !home.isEmpty {
            file = URL(fileURLWithPath: (home as NSString).expandingTildeInPath, isDirectory: true).appendingPathComponent("progress.json")
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            file = URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".lantern/progress.json")
        }
    }

    public enum StoreError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)
        public var description: String {
            switch self {
            case .unreadable(let path, let reason):
                "cannot read the lesson progress in \(path) (\(reason)); `lantern lesson reset` starts afresh"
            case .unwritable(let path, let reason):
                "cannot save the lesson progress in \(path) (\(reason)); set LANTERN_HOME to a folder you can write"
            }
        }
    }

    /// The saved progress; empty when there is none yet.
    public func load() throws -> LessonProgress {
        guard FileManager.default.fileExists(atPath: file.path) else { return LessonProgress() }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw StoreError.unreadable(path: file.path, reason: PlainError.reason(error))
        }
        do {
            return try JSONDecoder().decode(LessonProgress.self, from: data)
        } catch {
            throw StoreError.unreadable(path: file.path, reason: "it is not valid progress JSON")
        }
    }

    /// Writes whole or not at all (`AtomicFile`): a crash never leaves half a file.
    public func save(_ progress: LessonProgress) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(progress)
        do { try AtomicFile.write(data, to: file) } catch {
            throw StoreError.unwritable(path: file.path, reason: error.reason)
        }
    }

    /// Forgets everything, whatever state the file is in (unreadable included).
    public func reset() throws {
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        do { try FileManager.default.removeItem(at: file) } catch {
            throw StoreError.unwritable(path: file.path, reason: PlainError.reason(error))
        }
    }
}
