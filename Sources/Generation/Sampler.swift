import Tensors

/// One candidate token at one stage of the sampling funnel.
public struct Candidate: Sendable, Equatable, Codable {
    public var id: Int
    public var logit: Float
    /// Probability at this stage (after temperature, or renormalised after the cuts).
    public var probability: Float

    public init(id: Int, logit: Float, probability: Float) {
        self.id = id
        self.logit = logit
        self.probability = probability
    }
}

/// Everything that happened while choosing one token: logits → ÷ temperature → softmax →
/// top-k cut → top-p cut → renormalise → random draw → the chosen token.
public struct SamplingStep: Sendable, Equatable, Codable {
    /// How many candidates each list keeps (the funnel is summarised, not all V entries).
    public static let listed = 20

    public var settings: SamplingSettings
    /// The most likely tokens by raw logit, with softmax probabilities at temperature 1.
    public var topLogits: [Candidate]
    /// The most likely tokens after dividing by the temperature (greedy: same as `topLogits`).
    public var afterTemperature: [Candidate]
    /// Number of candidates left after the top-k cut and after the top-p cut.
    public var countAfterTopK: Int
    public var countAfterTopP: Int
    /// The survivors with renormalised probabilities (first `listed`).
    public var renormalised: [Candidate]
    /// The uniform number in [0, 1) drawn; nil for greedy steps.
    public var randomDraw: Float?
    public var chosen: Int
    /// Probability of the chosen token: in the distribution it was drawn from (renormalised after
    /// the cuts), or for greedy and forced steps in the model's own softmax (temperature 1).
    public var chosenProbability: Float
    /// 1-based rank of the chosen token by raw logit.
    public var chosenRank: Int
    /// Greedy steps: how far ahead of the runner-up the winner was (logit difference).
    public var marginToRunnerUp: Float?
    /// True when the token was forced (typed or picked by the learner) rather than sampled.
    public var forced: Bool = false
}

/// Chooses the next token from logits, recording the whole funnel.
public struct Sampler: Sendable {
    public var settings: SamplingSettings
    public var random: RandomSource

    public init(settings: SamplingSettings) {
        self.settings = settings
        self.random = RandomSource(seed: settings.seed)
    }

    public mutating func sample(logits: [Float]) -> SamplingStep {
        let V = logits.count
        // Greedy needs only the leaders; sampling needs the whole order for its cuts and draw.
        let order = settings.isGreedy ? topIndices(logits, count: SamplingStep.listed) : rankedIndices(logits)
        let baseProbabilities = softmax(logits)
        let top = order.prefix(SamplingStep.listed).map { Candidate(id: $0, logit: logits[$0], probability: baseProbabilities[$0]) }

        if settings.isGreedy {
            let winner = order[0]
            let margin = V > 1 ? logits[order[0]] - logits[order[1]] : nil
            return SamplingStep(
                settings: settings, topLogits: top, afterTemperature: top, countAfterTopK: 1,
                countAfterTopP: 1, renormalised: [Candidate(id: winner, logit: logits[winner], probability: 1)],
                randomDraw: nil, chosen: winner, chosenProbability: baseProbabilities[winner], chosenRank: 1,
                marginToRunnerUp: margin)
        }

        // logit ÷ T overflows to ±∞ for the tiniest temperatures (below about 1e-37), and ∞ − ∞ in
        // the softmax is NaN; subtracting the largest logit first keeps every value ≤ 0, which is
        // the same distribution (all mass on the top logit, shared by ties). Only then: for every
        // other temperature the arithmetic, and so every seeded run, stays as it was.
        var scaled = logits.map { $0 / settings.temperature }
        if !scaled.allSatisfy(\.isFinite), let largest = logits.max(), largest.isFinite {
            scaled = logits.map { ($0 - largest) / settings.temperature }
        }
        let probabilities = softmax(scaled)
        let afterTemperature = order.prefix(SamplingStep.listed).map {
            Candidate(id: $0, logit: logits[$0], probability: probabilities[$0])
        }
        // Top-k: the k most likely survive (dividing by a positive temperature keeps the order).
        var survivors = settings.topK > 0 ? Array(order.prefix(settings.topK)) : order
        let countAfterTopK = survivors.count
        // Top-p (nucleus): the smallest prefix whose probability reaches p, measured on the
        // distribution left after top-k; always at least one token.
        if settings.topP < 1 {
            let kept = survivors.reduce(Float(0)) { $0 + probabilities[$1] }
            var cumulative: Float = 0
            var cut = survivors.count
            for (index, id) in survivors.enumerated() {
                cumulative += probabilities[id] / kept
                if cumulative >= settings.topP { cut = index + 1; break }
            }
            survivors = Array(survivors.prefix(cut))
        }
        let countAfterTopP = survivors.count
        let total = survivors.reduce(Float(0)) { $0 + probabilities[$1] }
        let renormalised = survivors.map { Candidate(id: $0, logit: logits[$0], probability: probabilities[$0] / total) }

        // Inverse-CDF draw over the survivors, most likely first.
        let draw = random.nextFloat()
        var cumulative: Float = 0
        var chosenIndex = renormalised.count - 1  // rounding can leave the sum a hair under 1
        for (index, candidate) in renormalised.enumerated() {
            cumulative += candidate.probability
            if draw < cumulative { chosenIndex = index; break }
        }
        let chosen = renormalised[chosenIndex]
        return SamplingStep(
            settings: settings, topLogits: top, afterTemperature: afterTemperature,
            countAfterTopK: countAfterTopK, countAfterTopP: countAfterTopP,
            renormalised: Array(renormalised.prefix(SamplingStep.listed)), randomDraw: draw,
            chosen: chosen.id, chosenProbability: chosen.probability,
            chosenRank: chosenIndex + 1, marginToRunnerUp: nil)
    }
}

/// Indices of all logits, highest first; ties go to the lower id so every run orders alike.
func rankedIndices(_ logits: [Float]) -> [Int] {
    var pairs = logits.enumerated().map { (value: $0.element, id: $0.offset) }
    pairs.sort { $0.value > $1.value || ($0.value == $1.value && $0.id < $1.id) }
    return pairs.map(\.id)
}

/// The `count` highest values' indices, highest first (ties go to the lower index), in one pass.
public func topIndices(_ logits: [Float], count: Int) -> [Int] {
    var best: [(value: Float, id: Int)] = []
    best.reserveCapacity(count + 1)
    for (id, value) in logits.enumerated() {
        if best.count == count, let last = best.last, !(value > last.value) { continue }
        var index = best.count
        while index > 0, value > best[index - 1].value { index -= 1 }
        best.insert((value, id), at: index)
        if best.count > count { best.removeLast() }
    }
    return best.map(\.id)
}
