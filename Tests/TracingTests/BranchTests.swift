import Foundation
import Generation
import Tensors
import Tokenizers
import Tracing
import Transformer
import XCTest

final class BranchTests: XCTestCase {
    func branch(
        _ bundle: ModelBundle, settings: SamplingSettings, at: Int, choice: BranchChoice,
        maxNewTokens: Int = 12, stops: [String] = []
    ) throws -> BranchRecord {
        try BranchRecord.generate(
            generator: Generator(model: bundle.model, tokenizer: bundle.tokenizer), prompt: "Once upon a time",
            settings: settings, maxNewTokens: maxNewTokens, stopStrings: stops, at: at, choice: choice,
            source: "fixture")
    }

    /// The branch shares the main line's first n tokens, has the forced token at n, and the main line
    /// is exactly what `generate` gives; both lines come out the same again from the same seed.
    func testBranchSharesThePrefixForcesTokenNAndReproduces() throws {
        for fixture in ["gpt2-bytes-noprefix", "llama-tiny-gqa"] {
            let bundle = try AnalysisFixtures.bundle(fixture)
            let settings = SamplingSettings(temperature: 0.9, topK: 40, seed: 11)
            let n = 4
            let record = try branch(bundle, settings: settings, at: n, choice: .candidate(3))
            let (plain, _) = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
                .generate(prompt: "Once upon a time", maxNewTokens: 12, settings: settings)
            XCTAssertEqual(record.main.ids, plain.generatedIds, fixture)
            XCTAssertEqual(record.main.text, plain.text)
            XCTAssertEqual(record.main.stopReason, plain.stopReason)

            XCTAssertEqual(Array(record.branch.ids.prefix(n)), Array(record.main.ids.prefix(n)), fixture)
            XCTAssertEqual(record.branch.tokens[n].id, record.fork.forcedId)
            XCTAssertTrue(record.branch.tokens[n].forced)
            XCTAssertEqual(record.branch.tokens.filter(\.forced).count, 1)
            XCTAssertEqual(record.fork.forcedRank, 3, "candidate 3 is the third most likely there")
            XCTAssertEqual(record.fork.originalId, record.main.ids[n])
            XCTAssertLessThanOrEqual(record.branch.ids.count, 12)
            // The forced token's probability is its share of the original distribution at n (temperature 1).
            XCTAssertEqual(record.branch.tokens[n].probability, record.fork.forcedProbability)
            XCTAssertGreaterThan(record.fork.forcedProbability, 0)
            XCTAssertLessThan(record.fork.forcedProbability, 1)
            XCTAssertTrue(record.fork.forcedWithinFilters, "rank 3 survives top-k 40")
            for token in record.main.tokens + record.branch.tokens {
                XCTAssertTrue((0...1).contains(token.probability), "\(token)")
                XCTAssertGreaterThanOrEqual(token.rank, 1)
            }

            let again = try branch(bundle, settings: settings, at: n, choice: .candidate(3))
            XCTAssertEqual(again.main, record.main)
            XCTAssertEqual(again.branch, record.branch)
            XCTAssertEqual(again.fork, record.fork)
        }
    }

    func testForcingByIdAndByTextAndAtTheFirstToken() throws {
        let bundle = try AnalysisFixtures.bundle("gpt2-bytes-noprefix")
        let settings = SamplingSettings(greedy: true)
        let id = bundle.tokenizer.encode(" the")
        XCTAssertEqual(id.count, 1, "the fixture's vocabulary has ␣the")
        let byText = try branch(bundle, settings: settings, at: 0, choice: .text(" the"))
        let byId = try branch(bundle, settings: settings, at: 0, choice: .token(id[0]))
        XCTAssertEqual(byText.branch, byId.branch)
        XCTAssertEqual(byText.branch.tokens.first?.id, id[0])
        XCTAssertEqual(byText.fork.at, 0)
        // Greedy: only the most likely token could ever be chosen.
        XCTAssertEqual(byText.fork.forcedWithinFilters, byText.fork.forcedRank == 1)
        // The rest of a greedy branch is greedy: each token the most likely.
        XCTAssertTrue(byText.branch.tokens.dropFirst().allSatisfy { $0.rank == 1 })
        XCTAssertThrowsError(try branch(bundle, settings: settings, at: 0, choice: .text("Once upon a time"))) {
            XCTAssertTrue("\($0)".contains("not one"), "\($0)")
        }
        XCTAssertThrowsError(try branch(bundle, settings: settings, at: 12, choice: .candidate(2))) {
            // The library names the setting in words; the command line names its flag.
            XCTAssertTrue("\($0)".contains("the fork point 12 is out of range"), "\($0)")
            let flagged = ($0 as? BranchError)?.description { $0 == .fork ? "--at" : "--max-new-tokens" }
            XCTAssertTrue(flagged?.contains("--at 12 is out of range") ?? false, flagged ?? "\($0)")
        }
        XCTAssertThrowsError(try branch(bundle, settings: settings, at: 0, choice: .candidate(0)))
    }

    /// Forcing the end-of-text token ends the branch there; a main line that stops before the fork is an error.
    func testEndOfTextAndAnEarlyEndingMainLine() throws {
        let bundle = try AnalysisFixtures.bundle("llama-tiny-gqa")
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        let record = try branch(bundle, settings: SamplingSettings(greedy: true), at: 2, choice: .token(generator.endOfTextId))
        XCTAssertEqual(record.branch.ids.count, 2)
        XCTAssertEqual(record.branch.stopReason, .endOfText)

        // Stop at the first character the greedy line prints: it ends after k tokens, so no fork at k.
        let free = try branch(bundle, settings: SamplingSettings(greedy: true), at: 0, choice: .candidate(2))
        let stop = String(try XCTUnwrap(free.main.text.first, "the greedy line prints something"))
        let (stopped, _) = try generator.generate(
            prompt: "Once upon a time", maxNewTokens: 12,
            settings: SamplingSettings(greedy: true), stopStrings: [stop])
        XCTAssertEqual(stopped.stopReason, .stopString)
        let k = stopped.generatedIds.count
        XCTAssertThrowsError(try branch(bundle, settings: SamplingSettings(greedy: true), at: k, choice: .candidate(2), stops: [stop])) {
            XCTAssertTrue("\($0)".contains("the main line ended after \(k) generated token"), "\($0)")
        }
        // Forking at the token that completed the stop string works; the branch keeps the same stop strings.
        let last = try branch(bundle, settings: SamplingSettings(greedy: true), at: k - 1, choice: .candidate(2), stops: [stop])
        XCTAssertEqual(last.main.ids, stopped.generatedIds)
        XCTAssertEqual(last.stopStrings, [stop])
    }

    func testBranchJSONIsWrittenAtomicallyAndReadsBack() throws {
        let bundle = try AnalysisFixtures.bundle("gpt2-bytes-noprefix")
        let record = try branch(bundle, settings: SamplingSettings(temperature: 1, seed: 2), at: 1, choice: .candidate(2))
        let folder = AnalysisFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("nested/branch.json")
        try record.write(to: url)
        try record.write(to: url)  // replacing an existing file is fine
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path), ["branch.json"],
            "no temporary file is left behind")
        let loaded = try BranchRecord.read(from: url)
        XCTAssertEqual(loaded.main, record.main)
        XCTAssertEqual(loaded.branch, record.branch)
        XCTAssertEqual(loaded.fork, record.fork)
        XCTAssertEqual(loaded.sampling, record.sampling)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        XCTAssertEqual(json["format"] as? String, "lantern-branch")
        XCTAssertNotNil((json["fork"] as? [String: Any])?["forced_probability"])
        XCTAssertEqual((json["branch"] as? [String: Any])?["stop_reason"] as? String, record.branch.stopReason.rawValue)
        XCTAssertThrowsError(try record.write(to: URL(fileURLWithPath: "/proc/lantern/branch.json"))) {
            XCTAssertTrue("\($0)".contains("cannot write"), "\($0)")
        }
    }
}
