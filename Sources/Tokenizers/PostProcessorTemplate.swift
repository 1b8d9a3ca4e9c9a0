// MARK: - What a post-processor puts around the text

/// A `tokenizer.json` post-processor as a template: special tokens and the place of the text
/// (or of each text of a pair), each with the token type its ids get. Llama's is `<s> $A`;
/// BERT's `[CLS] $A [SEP]` and, for pairs, `[CLS] $A [SEP] $B:1 [SEP]:1`.
public struct PostProcessorTemplate: Sendable, Equatable {
    public enum Item: Sendable, Equatable {
        /// Ids the template adds (usually one).
        case special([Int], type: Int)
        /// Where the ids of the first (`A`) or second (`B`) text go.
        case text(second: Bool, type: Int)
    }
    public var single: [Item]
    /// The template for two texts; nil when the file has none.
    public var pair: [Item]?

    /// Nothing added: the text alone.
    public static let none = PostProcessorTemplate(single: [.text(second: false, type: 0)], pair: nil)

    /// Ids before and after a single text.
    public var singlePrefix: [Int] { ids(of: single.prefix { if case .special = $0 { return true } else { return false } }) }
    public var singleSuffix: [Int] {
        ids(of: single.reversed().prefix { if case .special = $0 { return true } else { return false } }.reversed())
    }

    /// The template filled with the texts' ids: (ids, token type of each). A file without a pair
    /// template gets the single one twice, the second time for B with token type 1.
    public func apply(_ first: [Int], _ second: [Int]? = nil) -> (ids: [Int], types: [Int]) {
        var ids: [Int] = [], types: [Int] = []
        for item in items(pair: second != nil) {
            switch item {
            case .special(let added, let type):
                ids += added
                types += Array(repeating: type, count: added.count)
            case .text(let isSecond, let type):
                let text = isSecond ? (second ?? []) : first
                ids += text
                types += Array(repeating: type, count: text.count)
            }
        }
        return (ids, types)
    }

    /// Where each text's ids land in `apply(first, second)`'s output, given their counts: an NLI
    /// model's premise and hypothesis positions, for pictures that cut one out of the other.
    public func spans(firstCount: Int, secondCount: Int) -> (first: Range<Int>, second: Range<Int>) {
        var position = 0
        var first = 0..<0, second = 0..<0
        for item in items(pair: true) {
            switch item {
            case .special(let added, _): position += added.count
            case .text(let isSecond, _):
                let count = isSecond ? secondCount : firstCount
                if isSecond { second = position..<(position + count) } else { first = position..<(position + count) }
                position += count
            }
        }
        return (first, second)
    }

    /// The items for one text or a pair (the single template twice when the file has no pair one).
    private func items(pair isPair: Bool) -> [Item] {
        guard isPair else { return single }
        return pair
            ?? single
            + single.map { item -> Item in
                switch item {
                case .special(let ids, _): return .special(ids, type: 1)
                case .text: return .text(second: true, type: 1)
                }
            }
    }

    private func ids<S: Sequence>(of items: S) -> [Int] where S.Element == Item {
        items.flatMap { item -> [Int] in if case .special(let ids, _) = item { return ids } else { return [] } }
    }
}

extension TokenizerJSONReader {
    /// The post-processor as a template. `TemplateProcessing`, `BertProcessing` /
    /// `RobertaProcessing`, `ByteLevel` (offsets only) and a `Sequence` of them.
    func postProcessorTemplate() throws -> PostProcessorTemplate {
        guard let value = document["post_processor"], !value.isNull else { return .none }
        return try template(value, at: "post_processor")
    }

    private func template(_ value: JSONValue, at place: String) throws -> PostProcessorTemplate {
        func malformed(_ reason: String) -> TokenizerError { TokenizerError.malformedJSON(path: path, reason: reason) }
        guard let type = value["type"]?.string else { throw malformed("\(place).type is missing") }
        switch type {
        case "TemplateProcessing":
            func items(_ key: String) throws -> [PostProcessorTemplate.Item]? {
                guard let list = value[key] else { return nil }
                guard let entries = list.array else { throw malformed("\(place).\(key) should be an array") }
                let items = try entries.enumerated().map { index, item -> PostProcessorTemplate.Item in
                    if let sequence = item["Sequence"] {
                        return .text(second: sequence["id"]?.string == "B", type: sequence["type_id"]?.int ?? 0)
                    }
                    guard let special = item["SpecialToken"], let name = special["id"]?.string else {
                        throw malformed("\(place).\(key)[\(index)] is neither a SpecialToken nor a Sequence")
                    }
                    guard let ids = value["special_tokens"]?[name]?["ids"]?.array?.compactMap(\.int) else {
                        throw malformed("\(place).special_tokens has no ids for \(quotedPiece(name))")
                    }
                    return .special(ids, type: special["type_id"]?.int ?? 0)
                }
                guard items.contains(where: { if case .text = $0 { return true } else { return false } }) else {
                    throw malformed("\(place).\(key) has no Sequence for the text")
                }
                return items
            }
            guard let single = try items("single") else { throw malformed("\(place).single is missing") }
            return PostProcessorTemplate(single: single, pair: try items("pair"))
        case "BertProcessing", "RobertaProcessing":
            // ["[CLS]", 101] before, ["[SEP]", 102] after.
            guard let cls = value["cls"]?.array?.last?.int, let sep = value["sep"]?.array?.last?.int else {
                throw malformed("\(place) needs cls and sep as [token, id]")
            }
            // BERT: [CLS] A [SEP] B:1 [SEP]:1; RoBERTa: <s> A </s> </s> B </s> (token types all 0).
            let second = type == "BertProcessing" ? 1 : 0
            let between: [PostProcessorTemplate.Item] =
                type == "BertProcessing" ? [.special([sep], type: 0)] : [.special([sep], type: 0), .special([sep], type: 0)]
            return PostProcessorTemplate(
                single: [.special([cls], type: 0), .text(second: false, type: 0), .special([sep], type: 0)],
                pair: [.special([cls], type: 0), .text(second: false, type: 0)] + between + [
                    .text(second: true, type: second), .special([sep], type: second)
                ])
        case "ByteLevel":
            return .none  // changes offsets only
        case "Sequence":
            guard let items = value["processors"]?.array else { throw malformed("\(place).processors is missing") }
            // Real files pair one template with ByteLevel (offsets only);
            // two templates in a row do not even run in the reference.
            let templates = try items.enumerated().map { index, item in
                try template(item, at: "\(place).processors[\(index)]")
            }.filter { $0 != .none }
            guard templates.count <= 1 else {
                throw TokenizerError.unsupportedModel(
                    path: path, reason: "\(place) is a Sequence of \(templates.count) processors that add tokens")
            }
            return templates.first ?? .none
        default:
            throw TokenizerError.unsupportedModel(path: path, reason: "post_processor \"\(type)\" at \(place) is not implemented")
        }
    }
}
