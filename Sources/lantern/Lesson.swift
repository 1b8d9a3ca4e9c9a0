import ArgumentParser
import Foundation
import Lessons
import ModelHub
import Rendering

struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "Guided lessons on how a transformer works, run on the real engine.",
        discussion: """
            Each lesson prints its text, runs real `lantern` commands (pictures go to
            output/), pauses, and asks questions checked against the actual numbers.
            Progress is saved in $LANTERN_HOME/progress.json (default
            ~/.lantern/progress.json).

              lantern lesson              list the lessons with your progress
              lantern lesson 5            start (or resume) lesson 5; or by id: `attention`
              lantern lesson next         the first lesson you have not finished
              lantern lesson reset [N]    forget all progress (or one lesson's)
              lantern lesson --check      lint the lessons: files, ids, blocks, commands

            At a question type the answer and press Enter; s skips, q stops (resume later).
            Answers are read line by line, so a pipe or tmux works: --interactive keeps
            asking even when standard input is not a terminal. --auto (the default when
            standard input is not a terminal) prints the whole lesson with the answers,
            asks nothing, saves nothing and exits 0 (used by CI).

            Lessons are found in --lessons DIR, else $LANTERN_LESSONS, else ./lessons, else
            lessons/ beside the executable, else the checkout the binary was built from.
            """)

    @Argument(help: ArgumentHelp("A lesson number or id, `next`, or `reset` [N]; nothing lists the lessons.", valueName: "lesson"))
    var selection: [String] = []

    @Flag(
        name: .long,
        help: "Lint the lesson content (every file registered, ids unique, every block well formed, every command valid) and exit.")
    var check = false

    @Flag(
        name: .long,
        help: "Print the whole lesson and its answers without asking anything (the default when standard input is not a terminal).")
    var auto = false

    @Flag(name: .long, help: "Ask the questions even when standard input is not a terminal (answers from a pipe or tmux).")
    var interactive = false

    @Flag(name: .long, help: "Start the lesson from the beginning instead of resuming.")
    var restart = false

    @Option(name: .long, help: ArgumentHelp("The lesson folder (with manifest.json). Default: see below.", valueName: "dir"))
    var lessons: String?

    @Option(
        name: .long, help: ArgumentHelp("Run every command of the lesson on this model (passed on as --model).", valueName: "path|name"))
    var model: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The tokenizer for --model, when it is not in the model folder (passed on as --tokenizer).", valueName: "path"))
    var tokenizer: String?

    func validate() throws {
        if auto && interactive { throw ValidationError("--auto and --interactive contradict each other: choose one") }
        if selection.count > 2 || (selection.count == 2 && selection[0] != "reset") {
            throw ValidationError("give one lesson (a number, an id or `next`), or `reset` [N]")
        }
        if tokenizer != nil && model == nil { throw ValidationError("--tokenizer goes with --model") }
    }

    func run() throws {
        let library = try Self.library(lessons)
        if check {
            let issues = library.lint { words in Self.problem(with: Self.prepared(words, model: model, tokenizer: tokenizer)) }
            for issue in issues { printError(issue.description) }
            guard issues.isEmpty else {
                printError("\(issues.count) problem\(issues.count == 1 ? "" : "s") in \(LessonLibrary.display(library.folder))")
                throw ExitCode(1)
            }
            print("\(library.entries.count) lessons in \(LessonLibrary.display(library.folder)): all well formed, every command valid")
            return
        }
        let store = ProgressStore()
        switch selection.first {
        case nil:
            try Self.list(library, store: store)
        case "reset":
            if selection.count == 2 {
                var progress = try store.load()
                guard let index = library.entryIndex(for: selection[1]) else { throw ValidationError(Self.unknown(selection[1], library)) }
                progress.lessons[library.entries[index].id] = nil
                try store.save(progress)
                print("Progress of lesson \(index + 1) (\(library.entries[index].title)) forgotten.")
            } else {
                try store.reset()
                print("All lesson progress forgotten (\(ModelLocations.display(store.file))).")
            }
        case "next":
            let progress = try store.load()
            guard let index = library.entries.firstIndex(where: { progress[$0.id].finished == nil }) else {
                print("You have finished every lesson. `lantern lesson N` runs one again; `lantern lesson reset` starts afresh.")
                return
            }
            try start(library, index: index, store: store)
        case let selector?:
            guard let index = library.entryIndex(for: selector) else { throw ValidationError(Self.unknown(selector, library)) }
            try start(library, index: index, store: store)
        }
    }

    func start(_ library: LessonLibrary, index: Int, store: ProgressStore) throws {
        let mode: LessonRunner.Mode =
            auto ? .automatic : interactive ? .interactive : (isatty(STDIN_FILENO) == 1 ? .interactive : .automatic)
        try Self.runLesson(library, index: index, mode: mode, store: store, model: model, tokenizer: tokenizer, restart: restart)
    }

    static func runLesson(
        _ library: LessonLibrary, index: Int, mode: LessonRunner.Mode, store: ProgressStore,
        model: String?, tokenizer: String?, restart: Bool
    ) throws {
        let parsed = library.parse(library.entries[index])
        guard parsed.issues.isEmpty else {
            for issue in parsed.issues { printError(issue.description) }
            printError("the lesson has problems; `lantern lesson --check` lists every one")
            throw ExitCode(1)
        }
        fflush(nil)
        let runner = try LessonRunner(
            library: library, index: index, lesson: parsed.lesson, mode: mode, console: StandardConsole(),
            commands: ProcessCommandRunner(executable: ProcessCommandRunner.currentExecutable()),
            prepare: { prepared($0, model: model, tokenizer: tokenizer) }, store: store,
            painter: TerminalPainter(color: TerminalColor.detect()), width: LessonRunner.terminalWidth())
        if case .failed(let issue) = runner.run(restart: restart) {
            printError("error: \(issue)")
            throw ExitCode(1)
        }
    }

    // MARK: - Commands of a lesson

    /// The command's words with `--model` added where the command takes one (the learner's model, else
    /// the built-in one), and `--tokenizer` with it when the learner gave one. A command that names
    /// its own model (e.g. the one a lesson has just trained) keeps it.
    static func prepared(_ words: [String], model: String?, tokenizer: String?) -> [String] {
        if words.contains(where: { $0 == "--model" || $0.hasPrefix("--model=") }) { return words }
        let with = words + ["--model", model ?? BuiltInModel.name]
        guard problem(with: with) == nil else { return words }
        if let tokenizer, problem(with: with + ["--tokenizer", tokenizer]) == nil { return with + ["--tokenizer", tokenizer] }
        return with
    }

    /// Why `lantern WORDS` would not parse, or nil when it does (help requests count as valid).
    static func problem(with words: [String]) -> String? {
        do {
            _ = try Lantern.parseAsRoot(words)
            return nil
        } catch {
            if Lantern.exitCode(for: error) == .success { return nil }
            return Lantern.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }

    // MARK: - Finding and listing

    static func library(_ explicit: String?) throws -> LessonLibrary {
        guard let folder = LessonLocator.find(explicit: explicit, executable: ProcessCommandRunner.currentExecutable()) else {
            if let explicit { throw ValidationError("\(explicit) has no \(LessonLibrary.manifestName): --lessons needs a lesson folder") }
            throw ValidationError(LessonLocator.notFoundMessage)
        }
        do {
            return try LessonLibrary(folder: folder)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    static func unknown(_ selector: String, _ library: LessonLibrary) -> String {
        "there is no lesson \"\(selector)\": use 1 to \(library.entries.count), an id (\(library.entries.prefix(3).map(\.id).joined(separator: ", ")), …) or next"
    }

    static func list(_ library: LessonLibrary, store: ProgressStore) throws {
        let progress = try store.load()
        let painter = TerminalPainter(color: TerminalColor.detect())
        print(painter.bold("Lantern lessons") + painter.dim("  (progress: \(ModelLocations.display(store.file)))"))
        print("")
        let width = library.entries.map(\.title.count).max() ?? 20
        for (i, entry) in library.entries.enumerated() {
            let record = progress[entry.id]
            let mark = record.finished != nil ? "✓" : record.started != nil ? "▸" : " "
            let status = record.finished != nil ? "finished" : record.started != nil ? "in progress" : ""
            let right = record.questions.isEmpty ? "" : ", \(record.correctCount) right at the first try"
            let title = entry.title.padding(toLength: width, withPad: " ", startingAt: 0)
            print("\(mark) \(String(format: "%2d", i + 1))  \(title)  \(painter.dim(status + (status.isEmpty ? "" : right)))")
            print("       \(painter.dim(entry.summary))")
        }
        print("")
        let next = library.entries.firstIndex { progress[$0.id].finished == nil }
        if let next {
            print("Start with `lantern lesson \(next + 1)` (or `lantern lesson next`). `lantern lesson --help` tells more.")
        } else {
            print("Every lesson finished. `lantern lesson N` runs one again.")
        }
    }

    /// Bare `lantern` on a terminal: a welcome and the offer of the first unfinished lesson.
    static func welcome() throws {
        guard let folder = LessonLocator.find(explicit: nil, executable: ProcessCommandRunner.currentExecutable()),
            let library = try? LessonLibrary(folder: folder)
        else {
            print(Lantern.helpMessage())
            return
        }
        let painter = TerminalPainter(color: TerminalColor.detect())
        print(painter.bold("Welcome to Lantern."))
        print(library.manifest.welcome ?? "Lantern runs real language models on your CPU and shows what happens inside them.")
        print("")
        let store = ProgressStore()
        let progress = (try? store.load()) ?? LessonProgress()
        let index = library.entries.firstIndex { progress[$0.id].finished == nil } ?? 0
        let entry = library.entries[index]
        print(
            "Lessons: \(library.entries.count), one per stage of a transformer (`lantern lesson` lists them; `lantern --help` lists every command)."
        )
        print("Start lesson \(index + 1), \(entry.title) (about \(entry.minutes ?? 7) minutes)? [Y/n] ", terminator: "")
        fflush(nil)
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased(), answer.isEmpty || answer.hasPrefix("y") else {
            print("Any time: `lantern lesson \(index + 1)`.")
            return
        }
        try runLesson(library, index: index, mode: .interactive, store: store, model: nil, tokenizer: nil, restart: false)
    }
}
