import Foundation

/// The inference parameters a learner meets in every course on LLMs.
public struct SamplingSettings: Sendable, Equatable, Codable {
    /// Divides the logits before softmax: < 1 sharpens, > 1 flattens; 0 means greedy.
    public var temperature: Float = 1.0
    /// Keep only the k most likely tokens; 0 turns the cut off.
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability adds up to at least p; 1 turns it off.
    public var topP: Float = 1.0
    /// Always take the most likely token (the same as temperature 0).
    public var greedy: Bool = false
    /// Seed of `RandomSource`; the same seed gives the same output on every run and machine.
    public var seed: UInt64 = 42

    public init(temperature: Float = 1.0, topK: Int = 0, topP: Float = 1.0, greedy: Bool = false, seed: UInt64 = 42) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.greedy = greedy; self.seed = seed
    }

    public static let maximumTemperature: Float = 100

    /// True when no random draw is involved.
    public var isGreedy: Bool { greedy || temperature == 0 }

    /// Checks every value, with a message that says what is allowed.
    public func validate() throws {
        guard temperature.isFinite, temperature >= 0, temperature <= Self.maximumTemperature else {
            throw SamplingError.outOfRange(
                .temperature, value: "\(temperature)",
                allowed: "0 (greedy) up to \(Int(Self.maximumTemperature)); 1 leaves the distribution unchanged")
        }
        guard topK >= 0 else {
            throw SamplingError.outOfRange(.topK, value: "\(topK)", allowed: "0 (off) or a positive number of candidates")
        }
        guard topP.isFinite, topP > 0, topP <= 1 else {
            throw SamplingError.outOfRange(.topP, value: "\(topP)", allowed: "greater than 0 and at most 1 (1 turns it off)")
        }
    }
}

/// A sampling setting, named as people write it; each interface names it its own way
/// (`--top-k` on the command line, `topk` in the stepper).
public enum SamplingSetting: String, Sendable {
    case temperature
    case topK = "top-k"
    case topP = "top-p"
}

public enum SamplingError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case outOfRange(SamplingSetting, value: String, allowed: String)

    /// The message with each setting named by `name` (e.g. its command-line flag).
    public func description(naming name: (SamplingSetting) -> String) -> String {
        switch self {
        case .outOfRange(let setting, let value, let allowed): return "\(name(setting)) \(value) is out of range: use \(allowed)"
        }
    }

    public var description: String { description(naming: \.rawValue) }
    public var errorDescription: String? { description }
}
