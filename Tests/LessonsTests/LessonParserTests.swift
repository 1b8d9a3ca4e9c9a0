import Foundation
import XCTest
@testable import Lessons

/// The block syntax: what parses into which block, and every malformed block reported with its line.
final class LessonParserTests: XCTestCase {
    let good = """
        # Tokens

        Some text.

        ```lantern
        tokenize "Mia found the ball." --json
        capture: count = json ids.count
        capture: first = json pieces.0
        ```

        ```pause
        ```

        ```question choice
        id: same
        ask: Which tokenizer runs at inference?
        - a different one
        - the same one as in training
        answer: b
        why: The ids only mean something to the model that learned them.
        ```

        ```question number
        id: count
        ask: How many tokens?
        answer: {count}
        tolerance: 0
        why: Each piece is one token.
        ```

        ```question predict
        id: top
        ask: Which token comes first?
        run: generate "Once" --greedy --max-new-tokens 1 --json
        capture: next = json generated_ids.0
        answer: {next}
        why: Greedy takes the most likely token,
          whatever it is.
        ```

        ```sh
        lantern generate "not a block"
        ```
        """

    func testParsesEveryBlockKind() throws {
        let result = LessonParser.parse(good, file: "t.md")
        XCTAssertEqual(result.issues, [])
        XCTAssertEqual(result.lesson.title, "Tokens")
        let blocks = result.lesson.blocks
        guard case .command(let step) = blocks[1] else { return XCTFail("\(blocks[1])") }
        XCTAssertEqual(step.arguments, ["tokenize", "Mia found the ball.", "--json"])
        XCTAssertEqual(step.captures.map(\.name), ["count", "first"])
        XCTAssertEqual(step.captures[0].rule, .json(path: ["ids", "count"]))
        XCTAssertEqual(step.line, 6)
        guard case .pause = blocks[2] else { return XCTFail("\(blocks[2])") }
        let questions = result.lesson.questions
        XCTAssertEqual(questions.map(\.kind), [.choice, .number, .predict])
        XCTAssertEqual(questions[0].options.count, 2)
        XCTAssertEqual(questions[2].command?.arguments.first, "generate")
        XCTAssertEqual(questions[2].why, "Greedy takes the most likely token,\nwhatever it is.")
        // The ```sh block is ordinary Markdown, kept in the text.
        guard case .text(let tail) = blocks.last else { return XCTFail("\(String(describing: blocks.last))") }
        XCTAssertTrue(tail.contains("lantern generate \"not a block\""))
    }

    func testMalformedBlocksAreReportedWithFileAndLine() {
        let bad = """
            # Bad

            ```question choice
            id: q1
            ask: Pick one
            - only option
            answer: 3
            why: because
            ```

            ```question number
            id: q2
            ask: How many?
            answer: lots
            why: because
            ```

            ```question maybe
            ```

            ```lantern
            generate "unbalanced
            colour: red
            ```

            ```question predict
            id: q3
            ask: What?
            answer: {nothing}
            why: because
            ```

            ```pause
            """
        let issues = LessonParser.parse(bad, file: "lessons/99-bad.md").issues.map(\.description)
        func has(_ line: Int, _ text: String) {
            XCTAssertTrue(
                issues.contains { $0.hasPrefix("lessons/99-bad.md:\(line): ") && $0.contains(text) }, "no \(line): \(text) in \(issues)")
        }
        has(3, "two or more")
        has(7, "not one of the options")
        has(14, "must be a number or a {capture}")
        has(18, "needs one kind")
        has(22, "unbalanced")
        has(23, "unknown key \"colour\"")
        has(26, "needs a run: line")
        has(26, "{nothing} is not captured")
        has(33, "never closed")
    }

    func testMissingFieldsAndDuplicateIds() {
        let text = """
            ```question choice
            id: a
            ask: x
            - 1
            - 2
            answer: 1
            why: w
            ```
            ```question choice
            id: b
            ask: z
            - 1
            - 2
            answer: 1
            ```
            ```question choice
            id: a
            ask: y
            - 1
            - 2
            answer: 2
            why: w
            ```
            """
        let issues = LessonParser.parse(text, file: "f.md").issues.map(\.description)
        XCTAssertTrue(issues.contains("f.md:1: the lesson has no title: start it with a `# Title` line"), "\(issues)")
        XCTAssertTrue(issues.contains { $0.hasPrefix("f.md:9: question is missing why:") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.hasPrefix("f.md:16: question id \"a\" is used twice (first at line 1)") }, "\(issues)")
    }

    /// A lesson that runs `lesson` would fork lessons inside lessons without end: refused by the parser.
    func testReferencesInProseMustBeCapturedEarlier() {
        let text = """
            # Prose

            Before: {count}.

            ```lantern
            tokenize "Mia" --json
            capture: count = json ids.count
            ```

            After: {count} tokens,
            and {missing}, but not {"json": 1} nor {2}.
            """
        let issues = LessonParser.parse(text, file: "p.md").issues.map(\.description)
        XCTAssertEqual(
            issues,
            [
                "p.md:3: {count} in the text is not captured by an earlier block (it would be printed as it is)",
                "p.md:11: {missing} in the text is not captured by an earlier block (it would be printed as it is)"
            ])
    }

    func testALessonCannotRunLessons() {
        for command in ["lesson 3 --auto", "lantern lesson next"] {
            let text = "# Loop\n\n```lantern\n\(command)\n```\n"
            let issues = LessonParser.parse(text, file: "loop.md").issues.map(\.description)
            XCTAssertTrue(issues.contains { $0.contains("loop.md:4") && $0.contains("cannot run `lantern lesson`") }, "\(issues)")
        }
    }

    /// An empty manifest is an issue naming manifest.json (looking a lesson up in it used to trap).
    func testAnEmptyManifestIsAnIssue() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-empty-manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"format": 1, "welcome": "hi", "lessons": []}"#.utf8).write(to: folder.appendingPathComponent("manifest.json"))
        XCTAssertThrowsError(try LessonLibrary(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("\"lessons\" is empty"), "\(error)")
        }
        try Data(#"{"format": 1, "lessons": [{"id": "x", "title": "X", "file": "../../etc/passwd", "summary": "s"}]}"#.utf8)
            .write(to: folder.appendingPathComponent("manifest.json"))
        XCTAssertThrowsError(try LessonLibrary(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("must be a path inside the lessons folder"), "\(error)")
        }
    }

    /// A lesson file spelled inside the folder but linked out of it is not read.
    func testALessonFileLinkedOutOfTheFolderIsAnIssue() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-linked-lesson-\(UUID().uuidString)")
        let folder = base.appendingPathComponent("lessons"), outside = base.appendingPathComponent("secret.md")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        try Data("# Secret\n\nprivate words\n".utf8).write(to: outside)
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("01-x.md"), withDestinationURL: outside)
        try Data(#"{"format": 1, "lessons": [{"id": "x", "title": "X", "file": "01-x.md", "summary": "s"}]}"#.utf8)
            .write(to: folder.appendingPathComponent("manifest.json"))
        let library = try LessonLibrary(folder: folder)
        let parsed = library.parse(library.entries[0])
        XCTAssertEqual(parsed.lesson.blocks.count, 0)
        XCTAssertTrue(parsed.issues.contains { $0.problem.contains("symbolic link out of the lessons folder") }, "\(parsed.issues)")
    }

    /// A lesson's commands write only inside output/ and never download: a crafted lesson passed
    /// --check and wrote wherever its --out said.
    func testLessonCommandsWriteOnlyInsideOutput() throws {
        let text = """
            # X

            ```lantern
            corpus --size-mb 0.001 --out /tmp/escape.txt
            ```

            ```lantern
            generate "hi" --trace output/../../elsewhere
            ```

            ```lantern
            download gpt2
            ```

            ```lantern
            attention "hi" --layer 0 --head 0 --out output/lesson-5.png
            ```
            """
        let problems = LessonParser.parse(text, file: "x.md").issues.map(\.problem)
        XCTAssertEqual(problems.count, 3, "\(problems)")
        XCTAssertTrue(problems[0].contains("--out /tmp/escape.txt: a lesson writes only inside output/"), problems[0])
        XCTAssertTrue(problems[1].contains("--trace output/../../elsewhere"), problems[1])
        XCTAssertTrue(problems[2].contains("cannot run `lantern download`"), problems[2])
    }

    func testCommandWordsSplitLikeAShell() throws {
        XCTAssertEqual(
            try CommandWords.split(#"generate "Once upon a time" --stop '.' --x=\"y\""#),
            ["generate", "Once upon a time", "--stop", ".", "--x=\"y\""])
        XCTAssertEqual(try CommandWords.split(#"tokenize "say \"hi\"""#), ["tokenize", "say \"hi\""])
        XCTAssertEqual(try CommandWords.split(#"generate """#), ["generate", ""])
        XCTAssertThrowsError(try CommandWords.split(#"generate "open"#))
        XCTAssertEqual(CommandWords.join(["generate", "Once upon", "--greedy"]), #"generate "Once upon" --greedy"#)
    }

    /// A long command is shown in lines of at most 80 columns, and a shell reads those lines
    /// back as the same words (breaks inside a quoted prompt included).
    func testLongCommandsWrapIntoLinesAShellJoinsBack() throws {
        let words = [
            "ablate", "Mia red ball kite Tom park duck blue cup Zoe hat green. Mia red ball kite Tom park duck blue cup Zoe hat \"green\".",
            "--head", "4.0", "--mode", "mean", "--from", "13", "--top", "3", "--model", "lantern-tiny"
        ]
        let lines = CommandWords.shellLines(words, prefix: "$ lantern ", width: 80)
        XCTAssertGreaterThan(lines.count, 2)
        XCTAssertTrue(lines.allSatisfy { $0.count <= 80 }, "\(lines)")
        XCTAssertEqual(CommandWords.shellLines(["info"], prefix: "$ lantern ", width: 80), ["$ lantern info"])
        // /bin/sh prints each word it reads, NUL-separated.
        let script = "printf '%s\\0' " + lines.joined(separator: "\n").dropFirst("$ lantern ".count)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script]
        let output = Pipe()
        shell.standardOutput = output
        try shell.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        shell.waitUntilExit()
        let read = String(decoding: data, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(read.map(String.init), words)
    }
}
