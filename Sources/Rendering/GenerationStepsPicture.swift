import Foundation
import Generation
import Tracing

/// A generation over its steps, from a trace: at each step, how sure the model was (its
/// probability of the most likely token), what it gave the token that was taken, and how much of
/// the distribution the 20 likeliest tokens hold (low: the next token was wide open). All at
/// temperature 1, the model's own distribution, whatever the sampling settings did after it.
public enum GenerationStepsPicture {
    /// The chart for `metadata`'s steps; `piece` names a token for the notes.
    public static func chart(_ metadata: TraceMetadata, piece: (Int) -> String) -> LineChart {
        let steps = metadata.steps
        let taken = steps.map { step in step.topLogits.first { $0.id == step.chosen }?.probability ?? .nan }
        let top = steps.map { $0.topLogits.first?.probability ?? .nan }
        let listed = steps.map { $0.topLogits.reduce(Float(0)) { $0 + $1.probability } }
        var chart = LineChart(
            title: "Generation over its steps · \(URL(fileURLWithPath: metadata.model.source).lastPathComponent)",
            subtitles: [
                "“\(excerpt(metadata.prompt))” → \(steps.count) generated tokens; the model's own probabilities (temperature 1) at each step"
            ],
            series: [
                LineChart.Series(name: "the token taken", values: taken, color: ChartPalette.chosen, markers: true),
                LineChart.Series(name: "the most likely token", values: top, color: ChartPalette.series[0]),
                LineChart.Series(
                    name: "the \(SamplingStep.listed) likeliest tokens together (low: wide open)", values: listed,
                    color: ChartPalette.series[2])
            ],
            xAxis: "step (1 = the first generated token)", yAxis: "probability", yRange: (0, 1))
        chart.xStart = 1
        // Where sampling took something other than the model's first choice.
        let surprises = steps.enumerated().filter { $0.element.chosenRank > 1 }.map { index, step in
            "step \(index + 1): \(piece(step.chosen)) (rank \(step.chosenRank))"
        }
        chart.notes =
            surprises.isEmpty
            ? ["Every token taken was the most likely one (the orange line lies on the blue one)."]
            : [
                "Not the most likely: " + surprises.prefix(5).joined(separator: ", ")
                    + (surprises.count > 5 ? " and \(surprises.count - 5) more" : "")
            ]
        if taken.contains(where: \.isNaN) {
            chart.notes.append("Gaps: the token taken was outside the \(SamplingStep.listed) likeliest, whose probabilities a trace keeps.")
        }
        return chart
    }

    /// Steps per band: a longer generation is drawn as bands of at most this many steps, one
    /// under the other (496 steps in one 600-pixel plot were a solid block of lines).
    public static let maximumBandSteps = 100

    /// The picture: `chart` as it is, or in bands of steps when the generation is long.
    public static func render(_ metadata: TraceMetadata, piece: (Int) -> String) throws -> Canvas {
        try chart(metadata, piece: piece).renderInBands(ofAtMost: maximumBandSteps, naming: "steps")
    }

    static func excerpt(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 60 ? String(flat.prefix(59)) + "…" : flat
    }
}
