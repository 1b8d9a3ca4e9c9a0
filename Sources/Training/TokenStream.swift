import Tensors

/// A tokenised corpus cut into a training part and a validation part, and the mini-batches drawn
/// from them.
///
/// Validation is the corpus's last `validationFraction` of tokens (never trained on). A training
/// batch is `B` windows of `T + 1` tokens at random starts; the random source is seeded by the run's
/// seed and the step number alone, so a resumed run draws exactly the batches the uninterrupted run
/// would have drawn.
public struct TokenStream: Sendable {
    /// Tokens trained on.
    public let training: [Int32]
    /// Held-out tokens for the validation loss.
    public let validation: [Int32]
    /// Whether each token of `training` / `validation` is one the model is trained to predict
    /// (nil: all are). A token that is not becomes a target −1 (`UnscoredSpans`).
    public let trainingScored: [Bool]?, validationScored: [Bool]?

    /// Splits `tokens` (and `scored`, one flag per token, when some are not to be trained on);
    /// needs at least one full window (`context + 1` tokens) on each side.
    /// - Throws: `TrainingError.corpusTooSmall` naming how many tokens there are and are needed.
    public init(tokens: [Int32], scored: [Bool]? = nil, context: Int, validationFraction: Double = 0.05) throws {
        precondition(scored == nil || scored!.count == tokens.count, "TokenStream: one scored flag per token")
        let window = context + 1
        let validationCount = max(window, Int(Double(tokens.count) * validationFraction))
        guard tokens.count >= validationCount + window else {
            throw TrainingError.corpusTooSmall(tokens: tokens.count, needed: validationCount + window, context: context)
        }
        let split = tokens.count - validationCount
        training = Array(tokens[..<split])
        validation = Array(tokens[split...])
        trainingScored = scored.map { Array($0[..<split]) }
        validationScored = scored.map { Array($0[split...]) }
    }

    /// The training batch of `step`: inputs and targets, each `[B, T]` row-major (targets are the
    /// inputs shifted by one token).
    public func trainingBatch(B: Int, T: Int, step: Int, seed: UInt64) -> (inputs: [Int32], targets: [Int32]) {
        // The step's generator starts from a *hash* of (seed, step). Starting it at
        // `seed + step·γ` (γ being SplitMix64's own increment) made step s+1's draws those of
        // step s shifted by one: every window was trained on B steps in a row.
        var seeder = SplitMix64(seed: seed &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15)
        var random = SplitMix64(seed: seeder.next())
        let starts = (0..<B).map { _ in Int(random.next() % UInt64(training.count - T)) }
        return Self.windows(training, scored: trainingScored, starts: starts, T: T)
    }

    /// `count` validation batches at evenly spaced starts, the same every time they are asked for,
    /// so validation losses at different steps compare like with like.
    public func validationBatches(B: Int, T: Int, count: Int) -> [(inputs: [Int32], targets: [Int32])] {
        let windows = B * count
        let span = validation.count - T - 1
        let starts = (0..<windows).map { span <= 0 ? 0 : $0 * span / max(1, windows - 1) }
        return (0..<count).map {
            Self.windows(validation, scored: validationScored, starts: Array(starts[($0 * B)..<(($0 + 1) * B)]), T: T)
        }
    }

    /// Inputs `tokens[start ..< start+T]` and targets one token later, −1 where that token is not scored.
    private static func windows(_ tokens: [Int32], scored: [Bool]?, starts: [Int], T: Int) -> (inputs: [Int32], targets: [Int32]) {
        var inputs: [Int32] = [], targets: [Int32] = []
        inputs.reserveCapacity(starts.count * T); targets.reserveCapacity(starts.count * T)
        for start in starts {
            inputs += tokens[start..<(start + T)]
            if let scored {
                targets += (start + 1..<start + T + 1).map { scored[$0] ? tokens[$0] : -1 }
            } else {
                targets += tokens[(start + 1)..<(start + T + 1)]
            }
        }
        return (inputs, targets)
    }
}
