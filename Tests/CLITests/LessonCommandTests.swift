import Foundation
import XCTest

/// `lantern lesson` end to end: the real lessons lint clean and run to the end non-interactively;
/// a malformed lesson is reported as FILE:LINE: problem; a scripted learner answering through a
/// pipe finishes lessons 5 and 9 and the progress file shows it.
///
/// The model: $LANTERN_LESSON_MODEL when set, else the built-in model when this checkout has it,
/// else a tiny model trained here once (a few seconds), so the tests need nothing outside.
final class LessonCommandTests: XCTestCase {
    static let lock = NSLock()
    nonisolated(unsafe) static var trainedModel: String?

    static var builtInPresent: Bool {
        FileManager.default.fileExists(atPath: CLI.repository.appendingPathComponent("Sources/ModelHub/lantern-tiny/config.json").path)
    }

    override class func tearDown() {
        if let model = trainedModel { try? FileManager.default.removeItem(at: URL(fileURLWithPath: model).deletingLastPathComponent()) }
        trainedModel = nil
        super.tearDown()
    }

    /// `--model X` for `lantern lesson`, or nothing for the built-in model.
    func modelArguments() throws -> [String] {
        if let model = ProcessInfo.processInfo.environment["LANTERN_LESSON_MODEL"], !model.isEmpty { return ["--model", model] }
        if Self.builtInPresent { return [] }
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if let model = Self.trainedModel { return ["--model", model] }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-lesson-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let corpus = folder.appendingPathComponent("corpus.txt").path, model = folder.appendingPathComponent("model").path
        let made = try CLI.run(["corpus", "--size-mb", "0.2", "--out", corpus])
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        let trained = try CLI.run([
            "train", "--data", corpus, "--out", model, "--steps", "30", "--layers", "2", "--heads", "2",
            "--width", "32", "--context", "128", "--batch", "4", "--vocab-size", "600", "--eval-every", "30",
            "--checkpoint-every", "30"
        ])
        XCTAssertEqual(trained.exitCode, 0, trained.stderr)
        Self.trainedModel = model
        return ["--model", model]
    }

    /// A scratch folder (the working folder for output/ and LANTERN_HOME for progress).
    func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-lesson-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    var lessons: String { CLI.repository.appendingPathComponent("lessons").path }

    func testTheRealLessonsLintClean() throws {
        let run = try CLI.run(["lesson", "--check"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("13 lessons in lessons: all well formed, every command valid"), run.stdout)
    }

    func testAMalformedLessonNamesFileLineAndProblem() throws {
        let folder = try scratch()
        try """
        {"format": 1, "lessons": [{"id": "bad", "title": "Bad", "file": "01-bad.md", "summary": "broken on purpose"}]}
        """.write(to: folder.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
        try """
        # Bad

        ```lantern
        generate "Once" --temprature 2
        ```

        ```question choice
        id: q
        ask: Which?
        - one
        - two
        answer: 5
        why: because
        ```
        """.write(to: folder.appendingPathComponent("01-bad.md"), atomically: true, encoding: .utf8)
        try "# Stray\n".write(to: folder.appendingPathComponent("02-stray.md"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["lesson", "--check", "--lessons", folder.path], in: folder)
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("01-bad.md:4: `lantern generate Once --temprature 2` is not a valid command:"), run.stderr)
        XCTAssertTrue(run.stderr.contains("01-bad.md:12: answer \"5\" is not one of the options"), run.stderr)
        XCTAssertTrue(run.stderr.contains("02-stray.md:1: this lesson file is not registered in manifest.json"), run.stderr)
        // The same lesson refuses to run, naming its problems.
        let start = try CLI.run(["lesson", "1", "--auto", "--lessons", folder.path], in: folder)
        XCTAssertNotEqual(start.exitCode, 0)
        XCTAssertTrue(start.stderr.contains("01-bad.md:12:"), start.stderr)
    }

    func testEveryLessonRunsToTheEndNonInteractively() throws {
        let model = try modelArguments()
        let work = try scratch()
        for n in 1...13 {
            let run = try CLI.run(["lesson", String(n), "--lessons", lessons] + model, environment: ["LANTERN_HOME": work.path], in: work)
            XCTAssertEqual(run.exitCode, 0, "lesson \(n):\n\(run.stdout.suffix(2000))\n\(run.stderr)")
            XCTAssertTrue(run.stdout.contains("End of lesson \(n):"), "lesson \(n) did not reach its end:\n\(run.stdout.suffix(1500))")
            XCTAssertTrue(run.stdout.contains(".png"), "lesson \(n) saves no picture")
            XCTAssertTrue(run.stdout.contains("Question: "), "lesson \(n) asks nothing")
        }
        let pictures = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("output").path).filter {
            $0.hasSuffix(".png")
        }
        XCTAssertGreaterThanOrEqual(pictures.count, 13, "\(pictures)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("progress.json").path), "--auto saves nothing")
    }

    /// The model's value of `pattern`'s first group in `lantern ARGS`' output.
    func value(_ arguments: [String], _ pattern: String, model: [String], in folder: URL) throws -> String {
        let run = try CLI.run(arguments + model, in: folder)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let regex = try NSRegularExpression(pattern: pattern)
        let text = run.stdout
        let match = try XCTUnwrap(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), "\(pattern) in \(text)")
        return String(text[Range(match.range(at: 1), in: text)!])
    }

    func testAScriptedLearnerFinishesLessonsFiveAndNine() throws {
        let model = try modelArguments()
        let home = try scratch()
        // The answers that depend on the model, worked out the way a learner would read them.
        let headSize = try value(["info"], #"attention\s+[^\n]*× (\d+)"#, model: model, in: home)
        let tokens = try value(
            ["tokenize", "The teacher taught the students with the book", "--json"], #""ids":\[([0-9,]*)\]"#, model: model, in: home
        )
        .split(separator: ",").count
        let stopped = try value(
            ["generate", "Once upon a time, there was a", "--greedy", "--max-new-tokens", "40", "--stop", ".", "--json"],
            #""generated_ids":\[([0-9,]*)\]"#, model: model, in: home
        ).split(separator: ",").count

        // Lesson 5, every answer right: head size, scale, (pause), mask, last row, masked cells, row sum.
        let five = try CLI.run(
            ["lesson", "5", "--interactive", "--lessons", lessons] + model,
            stdin: ["\(headSize)", "8", "", "2", "\(tokens)", "\(tokens * (tokens - 1) / 2)", "1"].joined(separator: "\n") + "\n",
            environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertEqual(five.exitCode, 0, five.stderr)
        XCTAssertFalse(five.stdout.contains("Not quite"), five.stdout)
        XCTAssertTrue(five.stdout.contains("End of lesson 5: Self-attention. 6 of 6 questions right at the first try."), five.stdout)

        // Lesson 9: the first answer wrong, then right; the rest right.
        let nine = try CLI.run(
            ["lesson", "9", "--interactive", "--lessons", lessons] + model,
            stdin: ["1", "2", "", "3", "1", "2", "\(stopped)", ""].joined(separator: "\n") + "\n",
            environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertEqual(nine.exitCode, 0, nine.stderr)
        XCTAssertTrue(
            nine.stdout.contains("✗ Not quite. You answered 1; expected 2) the same text twice: the seed fixes every random draw."),
            nine.stdout)
        XCTAssertTrue(nine.stdout.contains("Try again"), nine.stdout)
        XCTAssertTrue(nine.stdout.contains("End of lesson 9: Decoding."), nine.stdout)

        let progress = try CLI.json(String(contentsOf: home.appendingPathComponent("progress.json"), encoding: .utf8))
        let lessonsDone = try XCTUnwrap(progress["lessons"] as? [String: [String: Any]])
        let attention = try XCTUnwrap(lessonsDone["attention"])
        XCTAssertNotNil(attention["finished"] as? String)
        let attentionQuestions = try XCTUnwrap(attention["questions"] as? [String: [String: Any]])
        XCTAssertEqual(attentionQuestions.count, 6)
        XCTAssertTrue(
            attentionQuestions.values.allSatisfy { $0["correct"] as? Bool == true && $0["wrong"] as? Int == 0 }, "\(attentionQuestions)")
        let decoding = try XCTUnwrap(lessonsDone["decoding"])
        XCTAssertNotNil(decoding["finished"] as? String)
        let seed = try XCTUnwrap((decoding["questions"] as? [String: [String: Any]])?["same-seed"])
        XCTAssertEqual(seed["attempts"] as? Int, 2)
        XCTAssertEqual(seed["wrong"] as? Int, 1)
        XCTAssertEqual(seed["correct"] as? Bool, true)
        XCTAssertEqual(seed["answers"] as? [String], ["1", "2"])

        // The list shows both finished, and `next` picks lesson 1; reset forgets everything.
        let list = try CLI.run(["lesson", "--lessons", lessons], environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertTrue(list.stdout.contains("✓  5  Self-attention"), list.stdout)
        XCTAssertTrue(list.stdout.contains("✓  9  Decoding"), list.stdout)
        XCTAssertTrue(list.stdout.contains("Start with `lantern lesson 1`"), list.stdout)
        let reset = try CLI.run(["lesson", "reset", "--lessons", lessons], environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertEqual(reset.exitCode, 0, reset.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("progress.json").path))
    }

    /// LANTERN_HOME that cannot be written: a plain warning and no claim that progress was saved
    /// (it printed Cocoa errors, then "your progress is saved"); an unreadable progress file is
    /// forgotten by `lesson reset`.
    func testProgressThatCannotBeSavedOrReadIsSaidPlainly() throws {
        let model = try modelArguments()
        let home = try scratch()
        let blocker = home.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocker)
        let run = try CLI.run(
            ["lesson", "9", "--interactive", "--lessons", lessons] + model, stdin: "3\nq\n",
            environment: ["LANTERN_HOME": blocker.appendingPathComponent("home").path], in: home)
        XCTAssertTrue(run.stdout.contains("cannot save the lesson progress"), run.stdout)
        XCTAssertTrue(run.stdout.contains("your progress could not be saved"), run.stdout)
        XCTAssertFalse(run.stdout.contains("your progress is saved"), run.stdout)
        XCTAssertFalse(run.stdout.contains("NSCocoaErrorDomain") || run.stdout.contains("Error Domain"), run.stdout)

        try Data("{ not json".utf8).write(to: home.appendingPathComponent("progress.json"))
        let list = try CLI.run(["lesson", "--lessons", lessons], environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertTrue(list.stderr.contains("it is not valid progress JSON"), list.stderr)
        let reset = try CLI.run(["lesson", "reset", "--lessons", lessons], environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertEqual(reset.exitCode, 0, reset.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: home.appendingPathComponent("progress.json").path))
    }

    func testQuittingMidLessonResumesThere() throws {
        let model = try modelArguments()
        let home = try scratch()
        let first = try CLI.run(
            ["lesson", "9", "--interactive", "--lessons", lessons] + model, stdin: "3\nq\n",
            environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertEqual(first.exitCode, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("Resume with `lantern lesson 9`"), first.stdout)
        let again = try CLI.run(
            ["lesson", "next", "--interactive", "--lessons", lessons] + model, stdin: "q\n",
            environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertTrue(again.stdout.contains("Lesson 1 of 13"), "next is the first unfinished lesson: \(again.stdout.prefix(300))")
        let resumed = try CLI.run(
            ["lesson", "9", "--interactive", "--lessons", lessons] + model, stdin: "q\n",
            environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertTrue(resumed.stdout.contains("Resuming where you left off"), resumed.stdout)
        XCTAssertFalse(resumed.stdout.contains("Greedy: always the top token"), "the part already done is not shown again")
    }

    /// From another folder the binary still finds the lessons (the checkout it was built from);
    /// LANTERN_LESSONS points it at another folder.
    func testLessonsAreFoundFromElsewhere() throws {
        let elsewhere = try scratch()
        let run = try CLI.run(["lesson", "--check"], in: elsewhere)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("13 lessons in \(lessons)"), run.stdout)
        let copy = elsewhere.appendingPathComponent("my-lessons")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: lessons), to: copy)
        let list = try CLI.run(["lesson"], environment: ["LANTERN_LESSONS": copy.path, "LANTERN_HOME": elsewhere.path], in: elsewhere)
        XCTAssertEqual(list.exitCode, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains(" 1  Prompts, completions and the generation loop"), list.stdout)
        let missing = try CLI.run(
            ["lesson"], environment: ["LANTERN_LESSONS": elsewhere.appendingPathComponent("nothing").path], in: elsewhere)
        XCTAssertNotEqual(missing.exitCode, 0)
        XCTAssertTrue(missing.stderr.contains("cannot find the lessons"), missing.stderr)
    }

    /// Bare `lantern` on a terminal (a pseudo-terminal from script(1)) welcomes and offers lesson 1.
    func testBareLanternOnATerminalWelcomes() throws {
        // script(1) comes with bsdutils (Debian essential; also listed in scripts/apt-packages.txt).
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) is missing: apt-get install bsdutils")
        let home = try scratch()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", CLI.executable.path, "/dev/null"]
        process.currentDirectoryURL = home
        var environment = ProcessInfo.processInfo.environment
        environment["LANTERN_HOME"] = home.path
        environment["LANTERN_LESSONS"] = lessons
        environment["NO_COLOR"] = "1"
        environment["TERM"] = "xterm"
        process.environment = environment
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data("n\n".utf8))
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("Welcome to Lantern."), text)
        XCTAssertTrue(text.contains("Start lesson 1, Prompts, completions and the generation loop"), text)
        XCTAssertTrue(text.contains("Any time: `lantern lesson 1`."), text)
    }

    func testResetForgetsOneLesson() throws {
        let home = try scratch()
        let progress =
            #"{"format": 1, "about": "x", "lessons": {"attention": {"position": 0, "questions": {}, "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:05:00Z"}, "decoding": {"position": 3, "questions": {}, "started": "2026-01-01T00:00:00Z"}}}"#
        try progress.write(to: home.appendingPathComponent("progress.json"), atomically: true, encoding: .utf8)
        let list = try CLI.run(["lesson", "--lessons", lessons], environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertTrue(list.stdout.contains("✓  5  Self-attention"), list.stdout)
        XCTAssertTrue(list.stdout.contains("▸  9  Decoding"), list.stdout)
        let reset = try CLI.run(["lesson", "reset", "5", "--lessons", lessons], environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertEqual(reset.exitCode, 0, reset.stderr)
        XCTAssertTrue(reset.stdout.contains("Progress of lesson 5 (Self-attention) forgotten."), reset.stdout)
        let saved = try CLI.json(String(contentsOf: home.appendingPathComponent("progress.json"), encoding: .utf8))
        XCTAssertEqual((saved["lessons"] as? [String: Any])?.keys.sorted(), ["decoding"])
        let bad = try CLI.run(["lesson", "42", "--lessons", lessons], environment: ["LANTERN_HOME": home.path], in: home)
        XCTAssertNotEqual(bad.exitCode, 0)
        XCTAssertTrue(bad.stderr.contains("there is no lesson \"42\": use 1 to 13"), bad.stderr)
    }

    func testBareLanternOffTerminalPrintsHelp() throws {
        let run = try CLI.run([])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("USAGE: lantern <subcommand>"), run.stdout)
        XCTAssertTrue(run.stdout.contains("lesson"), run.stdout)
    }
}
