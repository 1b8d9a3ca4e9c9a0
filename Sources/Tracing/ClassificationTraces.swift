import Foundation
import Generation
import Tensors
import Tokenizers
import Transformer

// Traces of `lantern classify`'s runs: one per label, each a single forward pass (nothing is
// generated), so the trace commands read them like any other.

extension Trace {
    /// An NLI pair's run: the encoder read the pair (`<s> premise </s></s> hypothesis </s>`),
    /// the decoder its start token and the pair's ids but the last (the classification head
    /// reads the state at the last </s>).
    public init(
        nliPair pair: ZeroShotClassifier.Pair, premise: String, tokenizer: any Tokenizer, config: TransformerConfig, source: String,
        request: CaptureRequest
    ) {
        self.init(
            forward: pair.ids, records: request.kept(pair.records), tokenizer: tokenizer, config: config,
            prompt: premise + " ‖ " + pair.hypothesis, source: source, request: request)
        if let start = config.decoderStartTokenId {
            let rows = [start] + pair.ids.dropLast()
            metadata.decoderIds = rows
            metadata.decoderPieces = rows.map { tokenizer.displayPiece($0) }
        }
    }

    /// A label's run under the likelihood method: the prompt, then the label's continuation.
    public init(
        likelihoodOf scored: LikelihoodClassifier.Scored, prompt: String, tokenizer: any Tokenizer, config: TransformerConfig,
        source: String, request: CaptureRequest
    ) {
        self.init(
            forward: scored.ids, records: request.kept(scored.records), tokenizer: tokenizer, config: config,
            prompt: prompt + scored.continuation, source: source, request: request)
    }
}

extension CaptureRequest {
    /// The records this request asks for, out of a run that recorded more (a classifier's
    /// inside view adds its layer's attention pattern to what a trace asked for).
    public func kept(_ records: [String: Tensor]) -> [String: Tensor] {
        let spec = self.spec
        return records.filter { name, _ in
            guard let kind = RecordKind(recordName: name) else { return true }
            return spec.wants(kind, layer: kind.isPerLayer ? RecordKind.layer(ofRecordName: name) : nil)
        }
    }
}
