"""Direct logit attribution and residual-stream norms, computed in PyTorch (issue 22).

An independent reference for `lantern residual`: for two committed fixture models
(gpt2-bytes-noprefix, llama-tiny-gqa; weights untouched) it runs transformers'
own modules over the fixture's prompt + generated ids (reference/prompt_ids.json,
generated_ids.json), catches with hooks what each component writes into the
residual stream, and splits a logit into those writes the TransformerLens way:

  logit[t] = sum_i  w_t . centre(c_i) / scale  +  bias . u_t

where c_i is one component's write at the position (token embedding, learned
position embedding, each head's output through its slice of the output
projection, the output projection's bias, each MLP's output), u_t is token t's
unembedding row, w_t = final-norm gain * u_t, scale is the final norm's scale
for the whole residual (sqrt(var + eps) for LayerNorm, sqrt(mean square + eps)
for RMSNorm), centre() subtracts the mean for LayerNorm only, and bias is the
final LayerNorm's shift (none for RMSNorm). Computed in float64 from the stored
float32 weights; the script checks the parts sum to transformers' logit.

Writes Tests/TransformerTests/Fixtures/<fixture>/reference/attribution.json:
  {"cases": [{"position": p, "token": t, "logit": transformers' logit,
              "constant": bias . u_t, "components": {"embed": x, "pos_embed": x,
              "blocks.L.head.H": x, "blocks.L.attn_bias": x, "blocks.L.mlp": x}}],
   "resid_norms": [[...]]   # [layers + 1][positions]: L2 norm after the
                            # embeddings, then after each block (before the final norm)
   "meta": {...}}
Cases: the last position with its top prediction, and a middle position with
the token that actually follows it.

Run: /work/venv/bin/python scripts/make_attribution_fixture.py
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import GPT2LMHeadModel, LlamaForCausalLM

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "TransformerTests" / "Fixtures"
MODELS = {"gpt2-bytes-noprefix": GPT2LMHeadModel, "llama-tiny-gqa": LlamaForCausalLM}


def parts(model, ids):
    """Each component's write into the residual stream, [T, C] float64, in order, and the final norm."""
    writes, caught = [], {}
    is_gpt2 = isinstance(model, GPT2LMHeadModel)
    body = model.transformer if is_gpt2 else model.model
    blocks = body.h if is_gpt2 else body.layers
    hooks = []
    for layer, block in enumerate(blocks):
        projection = block.attn.c_proj if is_gpt2 else block.self_attn.o_proj
        hooks.append(projection.register_forward_pre_hook(
            lambda m, args, layer=layer: caught.__setitem__(("z", layer), args[0][0].detach().double())))
        hooks.append(block.mlp.register_forward_hook(
            lambda m, args, out, layer=layer: caught.__setitem__(("mlp", layer), out[0].detach().double())))
    with torch.no_grad():
        logits = model(ids, use_cache=False).logits[0].double()
    for hook in hooks:
        hook.remove()
    T = ids.shape[1]
    if is_gpt2:
        writes.append(("embed", body.wte.weight.double()[ids[0]]))
        writes.append(("pos_embed", body.wpe.weight.double()[:T]))
    else:
        writes.append(("embed", body.embed_tokens.weight.double()[ids[0]]))
    config = model.config
    heads = config.n_head if is_gpt2 else config.num_attention_heads
    for layer, block in enumerate(blocks):
        z = caught[("z", layer)]  # [T, C]: the heads' outputs side by side
        if is_gpt2:  # Conv1D: y = x @ W + b, W [in, out]
            weight, bias = block.attn.c_proj.weight.double(), block.attn.c_proj.bias.double()
        else:  # Linear: y = x @ W.T, W [out, in]
            weight, bias = block.self_attn.o_proj.weight.double().T, None
        size = z.shape[1] // heads
        for h in range(heads):
            cut = slice(h * size, (h + 1) * size)
            writes.append((f"blocks.{layer}.head.{h}", z[:, cut] @ weight[cut, :]))
        writes.append((f"blocks.{layer}.attn_bias",
                       bias.expand(T, -1) if bias is not None else torch.zeros(T, weight.shape[1], dtype=torch.float64)))
        writes.append((f"blocks.{layer}.mlp", caught[("mlp", layer)]))
    norm = body.ln_f if is_gpt2 else body.norm
    eps = norm.eps if is_gpt2 else norm.variance_epsilon
    return writes, logits, norm, eps, is_gpt2, len(blocks)


def main() -> None:
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    for name, model_cls in MODELS.items():
        folder = FIXTURES / name
        model = model_cls.from_pretrained(folder, attn_implementation="eager").float().eval()
        reference = folder / "reference"
        prompt = json.loads((reference / "prompt_ids.json").read_text())
        generated = json.loads((reference / "generated_ids.json").read_text())
        sequence = prompt + generated
        ids = torch.tensor([sequence])
        writes, logits, norm, eps, centres, layers = parts(model, ids)
        T = len(sequence)

        # The residual stream after the embeddings and after each block.
        stream = sum(w for n, w in writes if not n.startswith("blocks."))
        norms = [stream.norm(dim=1).tolist()]
        for layer in range(layers):
            stream = stream + sum(w for n, w in writes if n.startswith(f"blocks.{layer}."))
            norms.append(stream.norm(dim=1).tolist())

        gain = norm.weight.double()
        shift = norm.bias.double() if centres else None
        unembedding = model.get_output_embeddings().weight.double()  # [V, C]
        cases = []
        middle = len(prompt) - 1
        for position, token in [(T - 1, int(logits[T - 1].argmax())), (middle, sequence[middle + 1])]:
            x = stream[position]
            scale = torch.sqrt((x - x.mean()).pow(2).mean() + eps) if centres else torch.sqrt(x.pow(2).mean() + eps)
            direction = gain * unembedding[token]
            components = {}
            for label, write in writes:
                c = write[position]
                if centres:
                    c = c - c.mean()
                components[label] = float((c * direction).sum() / scale)
            constant = float((shift * unembedding[token]).sum()) if centres else 0.0
            total = sum(components.values()) + constant
            logit = float(logits[position, token])
            assert abs(total - logit) < 1e-4, (name, position, total, logit)
            cases.append({"position": position, "token": token, "logit": logit, "constant": constant,
                          "components": components})
            print(f"{name}: position {position} token {token}: logit {logit:.5f}, parts sum {total:.5f}")
        meta = {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__,
                "python": sys.version.split()[0], "command": "python scripts/make_attribution_fixture.py"}
        out = {"cases": cases, "resid_norms": norms, "meta": meta}
        (reference / "attribution.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
