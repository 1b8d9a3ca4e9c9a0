import Foundation
import Tensors
import Rendering

/// Where a lesson writes and reads lines: the terminal, or a fake in tests.
public protocol LessonConsole: AnyObject {
    func write(_ text: String)
    /// The next line the learner typed, without its newline; nil at the end of input.
    func readLine() -> String?
}

/// What a command printed.
public struct CommandOutput: Sendable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String

    public init(exitCode: Int32, stdout: String, stderr: String) {
        self.exitCode = exitCode; self.stdout = stdout; self.stderr = stderr
    }
}

/// Runs a `lantern` command (the words after `lantern`), showing its output as it comes when `echo` is set.
public protocol CommandRunning {
    func run(_ arguments: [String], input: [String], echo: Bool) throws -> CommandOutput
}

/// Walks a learner through one lesson: prints its text, runs its commands, pauses, asks its
/// questions and checks the answers, saving progress after every pause and question.
///
/// Interactive mode reads answers line by line (a terminal, a pipe or tmux alike). Automatic mode
/// (`--auto`, or standard input not a terminal) prints everything, answers nothing, saves nothing,
/// and fails only when a command fails or its output lacks a value a question needs.
public final class LessonRunner {
    public enum Mode: Sendable { case interactive, automatic }

    public enum Outcome: Equatable, Sendable {
        case finished
        /// The learner typed q, or input ended: progress is saved.
        case stopped
        case failed(LessonIssue)
    }

    public let library: LessonLibrary
    public let index: Int
    public let lesson: Lesson
    public let mode: Mode
    let console: LessonConsole
    let commands: CommandRunning
    /// Adds what every command of this run needs (e.g. the learner's --model) to a command's words.
    let prepare: ([String]) -> [String]
    let store: ProgressStore?
    let painter: TerminalPainter
    /// Lesson text and question text, wrapped to the terminal's width.
    let prose: ProseRenderer
    var progress: LessonProgress
    var captured: [String: String] = [:]
    /// The commands whose whole output has been shown in this run (see `printedOnce`).
    var shown: Set<[String]> = []

    /// Commands whose output is the same every time in a run (`info` describes the model), so a
    /// lesson that runs one twice — to ask a question, then to capture another value — shows it once.
    static let printedOnce: Set<String> = ["info"]

    /// `width`: the terminal's columns for the lesson text (`terminalWidth()`).
    public init(
        library: LessonLibrary, index: Int, lesson: Lesson, mode: Mode, console: LessonConsole, commands: CommandRunning,
        prepare: @escaping ([String]) -> [String] = { $0 }, store: ProgressStore?, painter: TerminalPainter = TerminalPainter(color: .none),
        width: Int = 80
    ) throws {
        self.library = library
        self.index = index
        self.lesson = lesson
        self.mode = mode
        self.console = console
        self.commands = commands
        self.prepare = prepare
        self.store = mode == .interactive ? store : nil
        self.painter = painter
        self.prose = ProseRenderer(width: width, painter: painter)
        progress = try self.store?.load() ?? LessonProgress()
        captured = Interpolation.builtInValues(folder: library.folder)
    }

    var entry: LessonManifest.Entry { library.entries[index] }
    var number: Int { index + 1 }

    func say(_ text: String) { console.write(text + "\n") }

    /// Runs the lesson from where the learner left it (or from the start with `restart`).
    public func run(restart: Bool = false) -> Outcome {
        var record = progress[entry.id]
        let minutes = entry.minutes.map { " · about \($0) minutes" } ?? ""
        say(painter.bold("Lesson \(number) of \(library.entries.count): \(entry.title)") + painter.dim(minutes))
        var start = 0
        if mode == .interactive {
            if restart || record.finished != nil || record.position >= lesson.blocks.count {
                // A new run of the lesson: every question is asked again.
                record.position = 0
                for id in record.questions.keys { record.questions[id]?.revealed = nil }
            }
            if record.started == nil { record.started = LessonProgress.now() }
            start = record.position
            if start > 0 {
                say(painter.dim("Resuming where you left off (`lantern lesson \(number) --restart` starts over)."))
            }
            progress[entry.id] = record
            save()
        }
        say("")
        // Blocks before the resume point are not shown again, but their values are captured again.
        for block in lesson.blocks[..<start] {
            let step: CommandStep?
            switch block {
            case .command(let s): step = s
            case .question(let q): step = q.command
            default: step = nil
            }
            if let step, !step.captures.isEmpty {
                if case .failed(let issue) = execute(step, echo: false) { return .failed(issue) }
            }
        }
        for position in start..<lesson.blocks.count {
            switch lesson.blocks[position] {
            case .text(let text):
                let rendered = render(Interpolation.fill(text, captured))
                if !rendered.isEmpty { say(rendered + "\n") }
            case .command(let step):
                if case .failed(let issue) = execute(step, echo: true) { return .failed(issue) }
            case .pause(let prompt, _):
                guard mode == .interactive else { continue }
                checkpoint(position)
                console.write(painter.dim((prompt ?? "Press Enter to continue") + " (q to stop) ") + "\n")
                guard let line = console.readLine() else { return stopped() }
                if isQuit(line) { return stopped() }
            case .question(let question):
                checkpoint(position)
                let outcome = ask(question)
                if outcome != .finished { return outcome }
                // Answered, skipped or revealed: a resume starts after it.
                checkpoint(position + 1)
            }
        }
        if mode == .interactive {
            record = progress[entry.id]
            record.finished = LessonProgress.now()
            record.position = 0
            progress[entry.id] = record
            save()
        }
        // The score counts answers right at the first try: a right answer after being told the
        // expected one says nothing of what the learner knew.
        let right = progress[entry.id].correctCount
        say(
            painter.bold("End of lesson \(number): \(entry.title).")
                + (mode == .interactive ? " \(right) of \(lesson.questions.count) questions right at the first try." : ""))
        if index + 1 < library.entries.count {
            sayWrapped("", leadWidth: 0, "Next: lesson \(number + 1), \(library.entries[index + 1].title) — `lantern lesson next`.")
        } else {
            say("That was the last lesson. `lantern lesson` lists them all.")
        }
        return .finished
    }

    func isQuit(_ line: String) -> Bool {
        ["q", "quit", "exit"].contains(line.trimmingCharacters(in: .whitespaces).lowercased())
    }

    func checkpoint(_ position: Int) {
        guard mode == .interactive else { return }
        progress[entry.id].position = position
        save()
    }

    func stopped() -> Outcome {
        let saved = save()
        say("")
        say(
            saved
                ? "Stopped; your progress is saved. Resume with `lantern lesson \(number)`."
                : "Stopped; your progress could not be saved (see the warning above).")
        return .stopped
    }

    /// Saves the progress; false when it could not be written (warned once, not at every step).
    @discardableResult
    func save() -> Bool {
        guard let store else { return true }
        do { try store.save(progress); return true } catch {
            if !warnedAboutSaving { say("warning: \(error)") }
            warnedAboutSaving = true
            return false
        }
    }

    private var warnedAboutSaving = false

    /// Markdown for the terminal: see `ProseRenderer` (the `# Title` line dropped, headings bold,
    /// paragraphs and list items wrapped to the width, **strong** and *emphasis* styled).
    func render(_ markdown: String) -> String { prose.render(markdown) }

    /// Says `text` wrapped to the width after `lead` (painted; `leadWidth` columns wide), the lines
    /// after the first indented by `hanging`.
    func sayWrapped(_ lead: String, leadWidth: Int, _ text: String, hanging: Int = 0) {
        let lines = prose.lines(text, firstIndent: leadWidth, restIndent: hanging)
        say(lead + lines[0])
        for line in lines.dropFirst() { say(String(repeating: " ", count: hanging) + line) }
    }

    // MARK: - Commands

    /// Runs a command (its {captures} filled in), showing it and its output, and records its captures.
    func execute(_ step: CommandStep, echo: Bool) -> Outcome {
        if let model = step.needsModel, (try? commands.run(["info", "--model", model], input: [], echo: false))?.exitCode != 0 {
            if echo {
                // The command as every command is shown, then the note wrapped like prose.
                for line in CommandWords.shellLines(step.arguments, prefix: "$ lantern ", width: prose.width) { say(painter.dim(line)) }
                let note = "(skipped: it needs the model \(model), which is not on this machine; `lantern download \(model)` fetches it)"
                for line in prose.lines(note, firstIndent: 0, restIndent: 0) { say(painter.dim(line)) }
                say("")
            }
            return .finished
        }
        let words = prepare(step.arguments.map { Interpolation.fill($0, captured) })
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for folder in step.fresh {
            let url = here.appendingPathComponent(folder)
            // The parser allows only output/…; a symbolic link must not carry the removal elsewhere.
            guard PathContainment.isInside(url, here.appendingPathComponent("output"), linkedFolderCounts: false) else {
                return .failed(
                    LessonIssue(
                        file: lesson.file, line: step.line,
                        problem:
                            "fresh: \(folder) leads outside output/ through a symbolic link; nothing was removed (remove the link or choose another folder)"
                    ))
            }
            try? FileManager.default.removeItem(at: url)
        }
        if echo {
            for line in CommandWords.shellLines(words, prefix: "$ lantern ", width: prose.width) { say(painter.bold(line)) }
            for line in step.input { say(painter.dim("  (typing: \(line.isEmpty ? "Enter" : line))")) }
        }
        // Shown already in this run: run for its captures, not shown again.
        let repeated = echo && step.showOutput && Self.printedOnce.contains(step.arguments.first ?? "") && shown.contains(words)
        // A --json command's one long line is laid out short unless the block asks for it all.
        let compact = echo && step.show == .standard && words.contains("--json")
        let output: CommandOutput
        do {
            output = try commands.run(words, input: step.input, echo: echo && step.showOutput && !compact && !repeated)
        } catch {
            return .failed(
                LessonIssue(
                    file: lesson.file, line: step.line,
                    problem: "cannot run `lantern \(CommandWords.join(words).prefix(200))`: \(PlainError.reason(error))"))
        }
        guard output.exitCode == 0 else {
            let tail = output.stderr.split(separator: "\n").suffix(3).joined(separator: "\n")
            return .failed(
                LessonIssue(
                    file: lesson.file, line: step.line,
                    problem:
                        "`lantern \(CommandWords.join(words))` failed with exit code \(output.exitCode)\(tail.isEmpty ? "" : ":\n" + tail)")
            )
        }
        if compact && !repeated {
            let text = CompactJSON.display(output.stdout, width: prose.width) ?? output.stdout
            for part in [text, output.stderr] where !part.isEmpty { console.write(part.hasSuffix("\n") ? part : part + "\n") }
        }
        if echo && step.showOutput && Self.printedOnce.contains(step.arguments.first ?? "") { shown.insert(words) }
        for capture in step.captures {
            do {
                captured[capture.name] = try CaptureEvaluator.value(
                    of: capture, stdout: output.stdout, stderr: output.stderr, known: captured)
            } catch {
                return .failed(LessonIssue(file: lesson.file, line: capture.line, problem: "\(error)"))
            }
        }
        if repeated { say(painter.dim("(the same output as above, not printed again)")) }
        if echo && (!step.showOutput || repeated) {
            for capture in step.captures { say("  \(capture.name) = \(captured[capture.name] ?? "")") }
        }
        if echo { say("") }
        return .finished
    }

    // MARK: - Questions

    func ask(_ question: Question) -> Outcome {
        sayWrapped(painter.bold("Question: "), leadWidth: 10, Interpolation.fill(question.ask, captured))
        for (i, option) in question.options.enumerated() {
            let lead = "  \(i + 1)) "
            sayWrapped(lead, leadWidth: lead.count, Interpolation.fill(option, captured), hanging: lead.count)
        }
        if question.kind == .predict { say(painter.dim("Make your prediction; then the command runs and shows the answer.")) }

        guard mode == .interactive else {
            if let step = question.command, case .failed(let issue) = execute(step, echo: true) { return .failed(issue) }
            // Answers are said as they are (not as Markdown, not wrapped): their spaces and `*` count.
            sayWrapped(painter.dim("Answer: "), leadWidth: 8, shownAnswer(question))
            sayWrapped(painter.dim("Why: "), leadWidth: 5, Interpolation.fill(question.why, captured))
            say("")
            return .finished
        }

        var record = progress[entry.id].questions[question.id] ?? LessonProgress.QuestionRecord()
        func keep() {
            progress[entry.id].questions[question.id] = record
            save()
        }
        if record.revealed == true {
            // Its answer was shown earlier in this run of the lesson (the learner stopped right after):
            // asking for it again would only ask to type what is on the screen.
            if let step = question.command, case .failed(let issue) = execute(step, echo: false) { return .failed(issue) }
            sayWrapped(painter.dim("You have seen its answer: "), leadWidth: 26, shownAnswer(question) + ".")
            sayWrapped("", leadWidth: 0, Interpolation.fill(question.why, captured))
            say("")
            return .finished
        }
        var ranCommand = false
        var answered = false
        /// A prediction is made before seeing: the command runs once, after the first answer (or a skip).
        func runCommand() -> Outcome {
            guard let step = question.command, !ranCommand else { return .finished }
            ranCommand = true
            return execute(step, echo: true)
        }
        while true {
            console.write("> ")
            guard let line = console.readLine() else { return stopped() }
            let given = line.trimmingCharacters(in: .whitespaces)
            if isQuit(given) { return stopped() }
            if given.lowercased() == "s" || given.lowercased() == "skip" {
                // The answer of a prediction is in the command's output: show it even when skipped.
                if case .failed(let issue) = runCommand() { return .failed(issue) }
                record.skipped = !record.correct
                if !answered { record.firstTry = false }
                record.revealed = true
                keep()
                sayWrapped("Skipped. The answer: ", leadWidth: 21, "\(shownAnswer(question)).")
                sayWrapped("", leadWidth: 0, Interpolation.fill(question.why, captured))
                say("")
                return .finished
            }
            if given.isEmpty { say("Type your answer and press Enter (s to skip, q to stop)."); continue }
            if case .failed(let issue) = runCommand() { return .failed(issue) }
            var verdict = AnswerChecker.check(given, question: question, captured: captured)
            if case .unreadable(let hint) = verdict {
                // Once its command has run, a prediction cannot be made again: it counts as wrong.
                guard question.kind == .predict else { say(hint + " (s to skip, q to stop)."); continue }
                verdict = .wrong(expected: shownAnswer(question))
            }
            record.attempts += 1
            record.answers = Array((record.answers + [given]).suffix(10))
            if !answered { record.firstTry = verdict == .right }
            answered = true
            record.revealed = true
            switch verdict {
            case .right:
                record.correct = true
                record.skipped = false
                keep()
                sayWrapped(painter.bold("✓ Right. "), leadWidth: 9, Interpolation.fill(question.why, captured))
                say("")
                return .finished
            case .wrong(let expected):
                record.wrong += 1
                keep()
                say(painter.bold("✗ Not quite.") + " You answered \(given); expected \(expected).")
                sayWrapped("Why: ", leadWidth: 5, Interpolation.fill(question.why, captured))
                // The command's output has shown the answer: a second prediction would be no prediction.
                if question.kind == .predict { say(""); return .finished }
                say("Try again: type the answer, or s to skip (q to stop).")
            case .unreadable:
                continue
            }
        }
    }

    func shownAnswer(_ question: Question) -> String {
        let expected = Interpolation.fill(question.answer, captured)
        switch question.kind {
        case .choice:
            let i = AnswerChecker.choiceIndex(expected, optionCount: question.options.count) ?? 0
            return "\(i + 1)) \(Interpolation.fill(question.options[i], captured))"
        case .number, .predict:
            // Text is quoted, so a leading space (a piece such as " boy") is visible.
            return Double(expected) == nil ? "\"\(expected)\"" : AnswerChecker.withTolerance(expected, question.tolerance)
        }
    }
}

// MARK: - The real terminal and the real command

/// Standard input and output, written unbuffered (so lesson text and command output never interleave out of order).
/// Answers read from a pipe are echoed, so the transcript shows them as a terminal would.
public final class StandardConsole: LessonConsole {
    let echoInput = isatty(STDIN_FILENO) != 1
    public init() {}
    public func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    public func readLine() -> String? {
        let line = Swift.readLine(strippingNewline: true)
        if echoInput, let line { write(line + "\n") }
        return line
    }
}

extension LessonRunner {
    /// The columns for lesson text: `COLUMNS` when it is set, else the terminal's width when
    /// standard output is a terminal, else 80; never more than 100 (longer lines are hard to read)
    /// nor less than 40.
    public static func terminalWidth(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        terminalColumns: () -> Int? = TerminalWidth.ofStandardOutput
    ) -> Int {
        min(100, max(40, TerminalWidth.columns(environment: environment, terminalColumns: terminalColumns)))
    }
}

/// Runs this very `lantern` executable as a child process: the same command a learner can type.
public struct ProcessCommandRunner: CommandRunning {
    public let executable: URL
    public init(executable: URL) { self.executable = executable }

    final class Collected: @unchecked Sendable {
        let lock = NSLock()
        var data = Data()
        func append(_ chunk: Data) { lock.lock(); data.append(chunk); lock.unlock() }
    }

    public func run(_ arguments: [String], input: [String], echo: Bool) throws -> CommandOutput {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let inPipe = Pipe()
        process.standardInput = input.isEmpty ? FileHandle.nullDevice : inPipe
        try process.run()
        if !input.isEmpty {
            let text = input.joined(separator: "\n") + "\n"
            let writer = inPipe.fileHandleForWriting
            DispatchQueue.global().async {
                writer.write(Data(text.utf8))
                try? writer.close()
            }
        }
        let out = Collected(), err = Collected()
        let group = DispatchGroup()
        // Both streams are shown in the lesson's one transcript, on standard output.
        for (pipe, collected) in [(outPipe, out), (errPipe, err)] {
            group.enter()
            let reader = pipe.fileHandleForReading
            DispatchQueue.global().async {
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    collected.append(chunk)
                    if echo { FileHandle.standardOutput.write(chunk) }
                }
                group.leave()
            }
        }
        process.waitUntilExit()
        group.wait()
        return CommandOutput(
            exitCode: process.terminationStatus, stdout: String(decoding: out.data, as: UTF8.self),
            stderr: String(decoding: err.data, as: UTF8.self))
    }

    /// This process's executable: /proc/self/exe where there is one, else argv[0] (searched in PATH).
    public static func currentExecutable() -> URL { Installation.executable() }
}
