import Foundation
import XCTest
@testable import Lessons

/// A console fed with typed lines, keeping everything written.
final class ScriptedConsole: LessonConsole {
    var lines: [String]
    var written = ""
    init(_ lines: [String]) { self.lines = lines }
    func write(_ text: String) { written += text }
    func readLine() -> String? { lines.isEmpty ? nil : lines.removeFirst() }
}

/// Commands answered from a table instead of a process; with a console, what a command prints is
/// written to it when the runner asks for it to be shown as it comes (as the real runner does).
final class CannedCommands: CommandRunning {
    var outputs: [String: CommandOutput]
    var ran: [[String]] = []
    var echoes: [Bool] = []
    let console: ScriptedConsole?
    init(_ outputs: [String: CommandOutput], console: ScriptedConsole? = nil) { self.outputs = outputs; self.console = console }
    func run(_ arguments: [String], input: [String], echo: Bool) throws -> CommandOutput {
        ran.append(arguments)
        echoes.append(echo)
        let output = outputs[arguments.first ?? ""] ?? CommandOutput(exitCode: 0, stdout: "", stderr: "")
        if echo { console?.write(output.stdout + output.stderr) }
        return output
    }
}

/// The runner end to end on a small lesson folder, with canned command output.
final class RunnerTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lessons-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let manifest = """
            {"format": 1, "lessons": [
              {"id": "one", "title": "One", "file": "01-one.md", "summary": "the first"},
              {"id": "two", "title": "Two", "file": "02-two.md", "summary": "the second"}
            ]}
            """
        try manifest.write(to: folder.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
        let lesson = """
            # One

            Hello learner.

            ```lantern
            tokenize "Mia found it" --json
            capture: n = json ids.count
            ```

            ```question number
            id: count
            ask: How many tokens?
            answer: {n}
            why: One per piece.
            ```

            ```pause
            ```

            ```question choice
            id: pick
            ask: Which?
            - red ({n} tokens)
            - blue
            answer: 2
            why: Blue is right.
            ```

            ```question predict
            id: next
            ask: What comes next?
            run: generate "Mia" --json
            capture: next = json text
            answer: {next}
            why: The model said so.
            ```
            """
        try lesson.write(to: folder.appendingPathComponent("01-one.md"), atomically: true, encoding: .utf8)
        try "# Two\n\n```lantern\ninfo\n```\n\n```question number\nid: x\nask: 1+1?\nanswer: 2\nwhy: sums\n```\n"
            .write(to: folder.appendingPathComponent("02-two.md"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    let commands = [
        "tokenize": CommandOutput(exitCode: 0, stdout: #"{"ids": [1, 2, 3], "pieces": ["Mia", "␣found", "␣it"]}"#, stderr: ""),
        "generate": CommandOutput(exitCode: 0, stdout: #"{"text": " Tom"}"#, stderr: "")
    ]

    func runner(
        _ lines: [String], mode: LessonRunner.Mode = .interactive, store: ProgressStore
    ) throws -> (LessonRunner, ScriptedConsole, CannedCommands) {
        let library = try LessonLibrary(folder: folder)
        let parsed = library.parse(library.entries[0])
        XCTAssertEqual(parsed.issues, [])
        let console = ScriptedConsole(lines), canned = CannedCommands(commands)
        let runner = try LessonRunner(
            library: library, index: 0, lesson: parsed.lesson, mode: mode, console: console, commands: canned,
            prepare: { $0 + ["--model", "m"] }, store: store)
        return (runner, console, canned)
    }

    /// `fresh: output/x` with `output` a link to the learner's own folder: the step fails and
    /// nothing there is removed (it used to delete the linked folder's contents).
    func testFreshNeverFollowsALinkOutOfOutput() throws {
        let work = folder.appendingPathComponent("work"), victim = folder.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: victim.appendingPathComponent("x"), withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: victim.appendingPathComponent("x/notes.txt"))
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("output"), withDestinationURL: victim)
        try "# Three\n\n```lantern\ninfo\nfresh: output/x\n```\n".write(
            to: folder.appendingPathComponent("01-one.md"), atomically: true, encoding: .utf8)
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(work.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }

        let library = try LessonLibrary(folder: folder)
        let parsed = library.parse(library.entries[0])
        XCTAssertEqual(parsed.issues, [])
        let console = ScriptedConsole([]), canned = CannedCommands(commands)
        let store = ProgressStore(file: folder.appendingPathComponent("progress.json"))
        let runner = try LessonRunner(
            library: library, index: 0, lesson: parsed.lesson, mode: .automatic, console: console,
            commands: canned, prepare: { $0 }, store: store)
        guard case .failed(let issue) = runner.run() else { return XCTFail("the lesson ran on: \(console.written)") }
        XCTAssertTrue(issue.problem.contains("leads outside output/ through a symbolic link"), issue.problem)
        XCTAssertEqual(canned.ran, [], "the command ran after the refusal")
        XCTAssertEqual(try String(contentsOf: victim.appendingPathComponent("x/notes.txt"), encoding: .utf8), "keep me")
    }

    /// `needs: model NAME`: the block runs where `info --model NAME` succeeds and is skipped,
    /// with a note saying how to fetch the model, where it fails; such a block may not capture.
    func testABlockThatNeedsAModelIsSkippedWithoutIt() throws {
        try "# Three\n\n```lantern\nembed \"a\" \"b\" --model mini\nneeds: model mini\n```\n\nAfter.\n".write(
            to: folder.appendingPathComponent("01-one.md"), atomically: true, encoding: .utf8)
        let library = try LessonLibrary(folder: folder)
        let parsed = library.parse(library.entries[0])
        XCTAssertEqual(parsed.issues, [])
        let store = ProgressStore(file: folder.appendingPathComponent("progress.json"))
        for (infoExit, runsEmbed) in [(Int32(1), false), (0, true)] {
            let console = ScriptedConsole([])
            let canned = CannedCommands(["info": CommandOutput(exitCode: infoExit, stdout: "", stderr: "")])
            let runner = try LessonRunner(
                library: library, index: 0, lesson: parsed.lesson, mode: .automatic, console: console, commands: canned,
                prepare: { $0 }, store: store)
            XCTAssertEqual(runner.run(), .finished)
            XCTAssertEqual(canned.ran.map(\.first), runsEmbed ? ["info", "embed"] : ["info"])
            XCTAssertEqual(canned.ran.first, ["info", "--model", "mini"])
            XCTAssertEqual(
                console.written.contains("skipped") && console.written.contains("lantern download mini"), !runsEmbed, console.written)
            XCTAssertTrue(console.written.contains("After."))
        }
        try "# Three\n\n```lantern\nembed \"a\" --model mini\nneeds: model mini\ncapture: x = regex (a)\n```\n".write(
            to: folder.appendingPathComponent("01-one.md"), atomically: true, encoding: .utf8)
        let refused = try LessonLibrary(folder: folder)
        XCTAssertTrue(refused.parse(refused.entries[0]).issues.contains { $0.problem.contains("cannot capture") })
    }

    func testInteractiveRunRecordsWrongThenRightAnswers() throws {
        let store = ProgressStore(file: folder.appendingPathComponent("home/progress.json"))
        let (runner, console, canned) = try runner(["4", "3", "", "1", "2", "tom"], store: store)
        XCTAssertEqual(runner.run(), .finished)
        XCTAssertTrue(console.written.contains("✗ Not quite. You answered 4; expected 3."), console.written)
        XCTAssertTrue(console.written.contains("Why: One per piece."))
        XCTAssertTrue(console.written.contains("$ lantern tokenize \"Mia found it\" --json --model m"))
        XCTAssertEqual(canned.ran.map(\.first), ["tokenize", "generate"])
        let record = try store.load()["one"]
        XCTAssertNotNil(record.finished)
        XCTAssertEqual(record.questions["count"]?.attempts, 2)
        XCTAssertEqual(record.questions["count"]?.wrong, 1)
        XCTAssertEqual(record.questions["count"]?.correct, true)
        XCTAssertEqual(record.questions["pick"]?.wrong, 1)
        XCTAssertEqual(record.questions["next"]?.correct, true)
        XCTAssertEqual(record.questions["next"]?.answers, ["tom"])
    }

    func testStoppingSavesThePlaceAndResumeCapturesAgain() throws {
        let store = ProgressStore(file: folder.appendingPathComponent("progress.json"))
        let (first, console, _) = try runner(["3", "q"], store: store)
        XCTAssertEqual(first.run(), .stopped)
        XCTAssertTrue(console.written.contains("Resume with `lantern lesson 1`"))
        let saved = try store.load()["one"]
        XCTAssertNil(saved.finished)
        XCTAssertEqual(saved.position, 3, "the pause after the first question")
        // Resuming: the text and the first question are not shown again, but {n} is captured again.
        let (second, console2, canned2) = try runner(["", "b", "s"], store: store)
        XCTAssertEqual(second.run(), .finished)
        XCTAssertFalse(console2.written.contains("Hello learner."))
        XCTAssertTrue(console2.written.contains("Resuming"))
        XCTAssertEqual(canned2.ran.map(\.first), ["tokenize", "generate"])
        let record = try store.load()["one"]
        XCTAssertNotNil(record.finished)
        XCTAssertEqual(record.questions["next"]?.skipped, true)
        XCTAssertEqual(record.questions["count"]?.correct, true)
    }

    func testEndOfInputStopsWithProgressSaved() throws {
        let store = ProgressStore(file: folder.appendingPathComponent("progress.json"))
        let (runner, _, _) = try runner(["3"], store: store)
        XCTAssertEqual(runner.run(), .stopped)
        XCTAssertNotNil(try store.load()["one"].started)
    }

    func testAutomaticModePrintsAnswersAndSavesNothing() throws {
        let store = ProgressStore(file: folder.appendingPathComponent("progress.json"))
        let (runner, console, _) = try runner([], mode: .automatic, store: store)
        XCTAssertEqual(runner.run(), .finished)
        XCTAssertTrue(console.written.contains("Answer: 3"), console.written)
        XCTAssertTrue(console.written.contains("Answer: 2) blue"))
        // Options are filled with earlier captures like the question itself.
        XCTAssertTrue(console.written.contains("1) red (3 tokens)"), console.written)
        XCTAssertTrue(console.written.contains("Answer: \" Tom\""))
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.file.path))
    }

    func testAFailingCommandNamesTheFileAndLine() throws {
        let library = try LessonLibrary(folder: folder)
        let parsed = library.parse(library.entries[0])
        let canned = CannedCommands(["tokenize": CommandOutput(exitCode: 1, stdout: "", stderr: "Error: no such model")])
        let runner = try LessonRunner(
            library: library, index: 0, lesson: parsed.lesson, mode: .automatic, console: ScriptedConsole([]),
            commands: canned, store: nil)
        guard case .failed(let issue) = runner.run() else { return XCTFail("the lesson should fail") }
        XCTAssertTrue(issue.file.hasSuffix("01-one.md"))
        XCTAssertEqual(issue.line, 6)
        XCTAssertTrue(issue.problem.contains("failed with exit code 1"), issue.problem)
        XCTAssertTrue(issue.problem.contains("no such model"))
    }

    func testLintFindsUnregisteredFilesDuplicateIdsAndBadCommands() throws {
        try "# Three\n".write(to: folder.appendingPathComponent("03-three.md"), atomically: true, encoding: .utf8)
        let library = try LessonLibrary(folder: folder)
        let issues = library.lint { words in words.first == "info" ? "unknown subcommand" : nil }.map(\.description)
        XCTAssertTrue(issues.contains { $0.hasSuffix("03-three.md:1: this lesson file is not registered in manifest.json") }, "\(issues)")
        XCTAssertTrue(
            issues.contains { $0.hasSuffix("02-two.md:4: `lantern info` is not a valid command: unknown subcommand") }, "\(issues)")
        // Duplicate ids and a missing file in the manifest.
        let manifest = """
            {"format": 1, "lessons": [
              {"id": "one", "title": "One", "file": "01-one.md", "summary": "s"},
              {"id": "one", "title": "Two", "file": "02-two.md", "summary": "s"},
              {"id": "four", "title": "Four", "file": "04-four.md", "summary": "s"}
            ]}
            """
        try manifest.write(to: folder.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
        let issues2 = try LessonLibrary(folder: folder).lint { _ in nil }.map(\.description)
        XCTAssertTrue(issues2.contains { $0.hasSuffix("manifest.json:3: lesson id \"one\" is used twice") }, "\(issues2)")
        XCTAssertTrue(
            issues2.contains { $0.hasSuffix("manifest.json:4: 04-four.md does not exist in \(LessonLibrary.display(folder))") },
            "\(issues2)")
    }

    func testProgressRoundTripsAndResets() throws {
        let store = ProgressStore(file: folder.appendingPathComponent("deep/er/progress.json"))
        var progress = LessonProgress()
        progress["one"].started = "2026-11-23T05:00:00Z"
        progress["one"].questions["q"] = {
            var r = LessonProgress.QuestionRecord(); r.attempts = 2; r.wrong = 1; r.correct = true; return r
        }()
        try store.save(progress)
        XCTAssertEqual(try store.load(), progress)
        let text = try String(contentsOf: store.file, encoding: .utf8)
        XCTAssertTrue(text.contains("Do not edit"), text)
        // No temporary files are left beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.file.deletingLastPathComponent().path), ["progress.json"])
        try store.reset()
        XCTAssertEqual(try store.load(), LessonProgress())
        XCTAssertEqual(ProgressStore(environment: ["LANTERN_HOME": "/x/y", "HOME": "/h"]).file.path, "/x/y/progress.json")
        XCTAssertEqual(ProgressStore(environment: ["HOME": "/h"]).file.path, "/h/.lantern/progress.json")
    }

    // MARK: - What a new learner found

    /// A runner on a folder of its own holding one lesson, `text`.
    func solo(
        _ text: String, _ lines: [String], mode: LessonRunner.Mode = .interactive, outputs: [String: CommandOutput] = [:],
        width: Int = 80
    ) throws -> (LessonRunner, ScriptedConsole, CannedCommands) {
        let solo = folder.appendingPathComponent("solo")
        try FileManager.default.createDirectory(at: solo, withIntermediateDirectories: true)
        try #"{"format": 1, "lessons": [{"id": "solo", "title": "Solo", "file": "01-solo.md", "summary": "s"}]}"#
            .write(to: solo.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
        try text.write(to: solo.appendingPathComponent("01-solo.md"), atomically: true, encoding: .utf8)
        let library = try LessonLibrary(folder: solo)
        let parsed = library.parse(library.entries[0])
        XCTAssertEqual(parsed.issues, [])
        let console = ScriptedConsole(lines), canned = CannedCommands(outputs, console: console)
        let runner = try LessonRunner(
            library: library, index: 0, lesson: parsed.lesson, mode: mode, console: console, commands: canned,
            store: ProgressStore(file: solo.appendingPathComponent("home/progress.json")), width: width)
        return (runner, console, canned)
    }

    func testProseIsWrappedToTheWidth() throws {
        let words = (1...40).map { "word\($0)" }
        let code = "lantern generate \"a fenced line that is longer than the eighty columns of the terminal\" --json"
        let lesson = """
            # Solo

            \(words[..<20].joined(separator: " "))
            \(words[20...].joined(separator: " "))

            - a list item \(words[..<15].joined(separator: " "))

            ```sh
            \(code)
            ```
            """
        let (runner, console, _) = try solo(lesson, [], mode: .automatic)
        XCTAssertEqual(runner.run(), .finished)
        let lines = console.written.components(separatedBy: "\n")
        XCTAssertTrue(lines.contains(code), "fenced code is kept as it is")
        let prose = lines.filter { $0.contains("word") }
        XCTAssertTrue(prose.allSatisfy { $0.count <= 80 }, console.written)
        XCTAssertEqual(prose.filter { $0.hasPrefix("word") }.joined(separator: " ").split(separator: " ").map(String.init), words)
        let item = prose.drop { !$0.hasPrefix("- ") }
        XCTAssertGreaterThan(item.count, 1)
        XCTAssertTrue(item.dropFirst().allSatisfy { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }, "a hanging indent: \(item)")
    }

    func testTheScoreCountsFirstTriesOnly() throws {
        let store = ProgressStore(file: folder.appendingPathComponent("home/progress.json"))
        // count: wrong then right; pick: wrong then right; next: right at once.
        let (runner, console, _) = try runner(["4", "3", "", "1", "2", "tom"], store: store)
        XCTAssertEqual(runner.run(), .finished)
        XCTAssertTrue(console.written.contains("1 of 3 questions right at the first try."), console.written)
        let record = try store.load()["one"]
        XCTAssertEqual(record.correctCount, 1)
        XCTAssertEqual(record.questions["count"]?.firstTry, false)
        XCTAssertEqual(record.questions["next"]?.firstTry, true)
    }

    func testARevealedPredictionIsNotAskedAgain() throws {
        let lesson = """
            # Solo

            ```question predict
            id: guess
            ask: What comes next?
            run: generate "Mia" --json
            capture: next = json text
            answer: {next}
            why: The model said so.
            ```

            ```pause
            ```

            After {next} it was.
            """
        // A wrong prediction shows the answer: no second try; input ends at the pause.
        let (first, console, canned) = try solo(lesson, ["Anna"], outputs: commands)
        XCTAssertEqual(first.run(), .stopped)
        XCTAssertTrue(console.written.contains("You answered Anna; expected \" Tom\"."), console.written)
        XCTAssertFalse(console.written.contains("Try again"), console.written)
        XCTAssertEqual(canned.ran.count, 1)
        // Resumed: the prediction is not asked for again, its value is captured again for the text.
        let (second, console2, canned2) = try solo(lesson, [""], outputs: commands)
        XCTAssertEqual(second.run(), .finished)
        XCTAssertFalse(console2.written.contains("What comes next?"), console2.written)
        XCTAssertTrue(console2.written.contains("After Tom it was."), console2.written)
        XCTAssertEqual(canned2.ran.map(\.first), ["generate"])
    }

    func testAQuestionWhoseAnswerWasShownIsNotAskedAgainOnResume() throws {
        let lesson = "# Solo\n\n```question number\nid: n\nask: How many?\nanswer: 3\nwhy: Three.\n```\n\nThe end.\n"
        // Wrong (the answer is shown), then q at "Try again".
        let (first, _, _) = try solo(lesson, ["4", "q"])
        XCTAssertEqual(first.run(), .stopped)
        let (second, console2, _) = try solo(lesson, [])
        XCTAssertEqual(second.run(), .finished, "nothing is read: the question is not asked again")
        XCTAssertTrue(console2.written.contains("You have seen its answer: 3.\nThree."), console2.written)
        XCTAssertTrue(console2.written.contains("0 of 1 questions right at the first try"), console2.written)
        // A new run of the lesson asks it again.
        let (third, console3, _) = try solo(lesson, ["3"])
        XCTAssertEqual(third.run(restart: true), .finished)
        XCTAssertTrue(console3.written.contains("✓ Right."), console3.written)
        XCTAssertTrue(console3.written.contains("1 of 1 questions right at the first try"), console3.written)
    }

    func testJSONIsShownShortUnlessTheBlockAsksForAll() throws {
        let ids = (0..<300).map(String.init).joined(separator: ",")
        let members = (0..<20).map { "\"m\($0)\":\($0)" }.joined(separator: ",")
        let json = #"{"ids":[\#(ids)],"prompt":"Mia","rest":{\#(members)}}"#
        let lesson = """
            # Solo

            ```lantern
            tokenize "Mia" --json
            capture: n = json ids.count
            ```

            It became {n} tokens.

            ```lantern
            tokenize "Mia" --json
            show: all
            ```
            """
        let (runner, console, canned) = try solo(
            lesson, [], mode: .automatic,
            outputs: ["tokenize": CommandOutput(exitCode: 0, stdout: json + "\n", stderr: "")])
        XCTAssertEqual(runner.run(), .finished)
        XCTAssertEqual(canned.echoes, [false, true], "the runner lays out the first, the second comes as printed")
        let shown = console.written.components(separatedBy: "It became")[0]
        XCTAssertFalse(shown.contains(json), shown)
        XCTAssertTrue(shown.contains("{\n  \"ids\": [0, 1, 2, 3,"), shown)
        XCTAssertTrue(shown.contains("  \"prompt\": \"Mia\",\n"), shown)
        XCTAssertTrue(shown.contains("\n… (16 more lines)\n"), shown)
        XCTAssertTrue(shown.components(separatedBy: "\n").allSatisfy { $0.count <= 80 || $0.hasPrefix("$ ") }, shown)
        XCTAssertTrue(console.written.contains("It became 300 tokens."), console.written)
        XCTAssertEqual(console.written.components(separatedBy: json).count, 2, "show: all prints it as it is")
    }

    func testInfoIsPrintedOncePerRun() throws {
        let lesson = """
            # Solo

            ```question predict
            id: scheme
            ask: Which positions?
            run: info
            capture: scheme = regex positions\\s+(\\w+)
            answer: {scheme}
            why: It says so.
            ```

            ```lantern
            info
            capture: context = regex context\\s+(\\d+) tokens
            ```
            """
        let info = CommandOutput(exitCode: 0, stdout: "positions      learned\ncontext        256 tokens\n", stderr: "")
        let (runner, console, canned) = try solo(lesson, [], mode: .automatic, outputs: ["info": info])
        XCTAssertEqual(runner.run(), .finished)
        XCTAssertEqual(canned.echoes, [true, false])
        XCTAssertEqual(console.written.components(separatedBy: "positions      learned").count, 2, console.written)
        XCTAssertTrue(console.written.contains("(the same output as above, not printed again)\n  context = 256"), console.written)
    }
}
