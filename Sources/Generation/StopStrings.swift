/// Holds back generated text that might be the start of a stop string, so that a stop
/// string is never printed, not even in part, while everything else streams out at once.
public struct StopStringFilter: Sendable {
    public let stops: [String]
    /// Text received but not yet released.
    private var held = ""

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Adds newly decoded text. Returns the text safe to show, and whether a stop string appeared
    /// (everything from the stop string on is dropped).
    public mutating func append(_ text: String) -> (release: String, stopped: Bool) {
        held += text
        if let cut = stops.compactMap({ held.range(of: $0)?.lowerBound }).min() {
            let release = String(held[..<cut])
            held = ""
            return (release, true)
        }
        // Keep the longest tail of `held` that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, held.count), to: 0, by: -1)
            where held.hasSuffix(stop.prefix(length)) {
                keep = max(keep, length)
                break
            }
        }
        let release = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (release, false)
    }

    /// Releases whatever is still held (generation ended without completing a stop string).
    public mutating func finish() -> String {
        defer { held = "" }
        return held
    }
}
