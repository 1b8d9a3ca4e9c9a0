import Foundation
import Generation
import Tokenizers
import Transformer

/// Re-runs a trace's generation with its model: the same prompt, the settings of every step
/// (the stepper may change them between steps) and the learner's forced tokens, sampling the
/// rest with the recorded seed. A faithful engine reproduces every token.
public struct ReplayOutcome {
    public var replayedIds: [Int]
    public var recordedIds: [Int]
    /// Index of the first generated token that differs, if any.
    public var firstDivergence: Int?
    public var session: GenerationSession
}

public enum Replay {
    public static func run(
        _ metadata: TraceMetadata, model: any LanguageModel, tokenizer: any Tokenizer,
        capture: CaptureSpec = .nothing
    ) throws -> ReplayOutcome {
        // An ablated run is replayed with the same components switched off.
        var capture = capture
        if let ablation = metadata.ablation {
            capture.intervention = try ablation.intervention(model: model, promptIds: metadata.promptIds)
        }
        let session = try GenerationSession(
            model: model, tokenizer: tokenizer, promptIds: metadata.promptIds,
            settings: metadata.steps.first?.settings ?? metadata.sampling, capture: capture)
        var firstDivergence: Int?
        for (index, recorded) in metadata.steps.enumerated() {
            // Heads switched off or on before this step, as the stepper did.
            for change in metadata.headSwitches ?? [] where change.step == index {
                try session.setIntervention(change.intervention(config: model.config))
            }
            session.settings = recorded.settings
            let step = recorded.forced ? session.forcedStep(recorded.chosen) : session.sample()
            if step.chosen != recorded.chosen, firstDivergence == nil { firstDivergence = index }
            // An end-of-text step that ended the run was never fed back.
            if index >= metadata.generatedIds.count { session.recordFinalStep(step); break }
            if session.isContextFull { break }
            try session.accept(step)
        }
        return ReplayOutcome(
            replayedIds: session.generatedIds, recordedIds: metadata.generatedIds,
            firstDivergence: firstDivergence, session: session)
    }
}
