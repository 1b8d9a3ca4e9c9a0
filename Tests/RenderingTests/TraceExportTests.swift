import Foundation
import Generation
import LanternTestSupport
import Rendering
import Tracing
import Transformer
import XCTest

/// The export's plan follows what a trace holds, and writing it reports every picture once.
final class TraceExportTests: XCTestCase {
    func testThePlanFollowsTheTraceAndEveryPictureIsWritten() throws {
        let bundle = try ModelBundle.load(model: Repository.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path)
        let request = CaptureRequest(kinds: [.pattern], layers: nil)
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer,
            promptIds: PromptEncoder.ids(for: "Once upon", tokenizer: bundle.tokenizer),
            settings: SamplingSettings(greedy: true), capture: request.spec)
        for _ in 0..<2 { try session.accept(session.sample()) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-export-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: scratch) }
        let folder = scratch.appendingPathComponent("trace")
        try TraceFile.write(Trace(session: session, prompt: "Once upon", source: bundle.source, request: request), to: folder)

        let export = try TraceExport(
            trace: folder, metadata: TraceFile.readMetadata(folder), bundle: bundle, modelPath: bundle.source, top: 5)
        let layers = bundle.model.config.layers
        XCTAssertEqual(
            export.jobs.map(\.name),
            (0..<layers).map { "attention-L\($0)-all.png" } + ["attention-overview.png"]
                + ["probs-step1.png", "funnel-step1.png", "probs-step2.png", "funnel-step2.png", "generation-steps.png"])
        XCTAssertEqual(export.skipped.count, 1)
        XCTAssertTrue(export.skipped[0].hasPrefix("logit lens: the trace has no resid_post records"), export.skipped[0])

        let target = scratch.appendingPathComponent("pictures")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        final class Seen: @unchecked Sendable { var begun: [String] = [], written: [String] = [] }
        let seen = Seen()
        try export.write(
            into: target,
            observer: TraceExport.Observer(
                begin: { seen.begun.append($0) },
                written: { seen.written.append($0.lastPathComponent) }))
        XCTAssertEqual(Set(seen.begun), Set(export.jobs.map(\.name)))
        XCTAssertEqual(Set(seen.written), Set(export.jobs.map(\.name)))
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: target.path)), Set(export.jobs.map(\.name)))
    }
}
