"""Head and MLP ablation computed with PyTorch hooks on transformers' own modules (issue 24).

For two committed fixtures (gpt2-bytes-noprefix, llama-tiny-gqa; weights untouched) over their
reference prompt + generated ids, each case switches components off the way `lantern ablate`
does and records the log-probability of every actual next token:
  - a head: its slice of the output projection's input (the heads' outputs side by side, before
    c_proj / o_proj; TransformerLens's hook_z) set to zero, or to its mean over the positions;
  - an MLP: its output set to zero, or to its mean over the positions.
Means come from an unablated pass over the same ids.

Writes Tests/TransformerTests/Fixtures/<fixture>/reference/ablation.json:
  {"cases": [{"heads": [[layer, head], ...], "mlps": [layer, ...], "mode": "zero"|"mean",
              "logprob": [...]}],     # logprob[i] = log P(token i+1 | tokens <= i), ablated
   "baseline_logprob": [...], "meta": {...}}

Run: /work/venv/bin/python scripts/make_ablation_fixture.py
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
MODELS = {
    "gpt2-bytes-noprefix": (GPT2LMHeadModel, [([[1, 2]], [], "zero"), ([[0, 1], [2, 3]], [0], "zero"), ([[0, 1]], [1], "mean")]),
    "llama-tiny-gqa": (LlamaForCausalLM, [([[1, 2]], [], "zero"), ([[0, 1], [1, 7]], [0], "zero"), ([[0, 5]], [1], "mean")]),
}


def parts(model):
    if isinstance(model, GPT2LMHeadModel):
        return [(b.attn.c_proj, b.mlp) for b in model.transformer.h], model.config.n_head
    return [(b.self_attn.o_proj, b.mlp) for b in model.model.layers], model.config.num_attention_heads


def logprobs(logits, ids):
    lp = torch.log_softmax(logits[0].double(), dim=-1)
    return [float(lp[i, ids[i + 1]]) for i in range(len(ids) - 1)]


def main() -> None:
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    for name, (cls, cases) in MODELS.items():
        folder = FIXTURES / name
        model = cls.from_pretrained(folder, attn_implementation="eager").float().eval()
        ref = folder / "reference"
        ids = json.loads((ref / "prompt_ids.json").read_text()) + json.loads((ref / "generated_ids.json").read_text())
        x = torch.tensor([ids])
        layers, heads = parts(model)
        # The unablated pass, catching each projection's input and each MLP's output for the means.
        caught, hooks = {}, []
        for l, (projection, mlp) in enumerate(layers):
            hooks.append(projection.register_forward_pre_hook(lambda m, a, l=l: caught.__setitem__(("z", l), a[0].clone())))
            hooks.append(mlp.register_forward_hook(lambda m, a, out, l=l: caught.__setitem__(("mlp", l), out.clone())))
        baseline = logprobs(model(x, use_cache=False).logits, ids)
        for hook in hooks:
            hook.remove()
        out_cases = []
        for chosen_heads, chosen_mlps, mode in cases:
            hooks = []
            for l, (projection, mlp) in enumerate(layers):
                mine = [h for (hl, h) in chosen_heads if hl == l]
                if mine:
                    size = caught[("z", l)].shape[-1] // heads

                    def pre(m, a, l=l, mine=mine, size=size):
                        z = a[0].clone()
                        for h in mine:
                            cut = slice(h * size, (h + 1) * size)
                            z[..., cut] = 0 if mode == "zero" else caught[("z", l)][..., cut].mean(dim=1, keepdim=True)
                        return (z,)
                    hooks.append(projection.register_forward_pre_hook(pre))
                if l in chosen_mlps:
                    def post(m, a, out, l=l):
                        return torch.zeros_like(out) if mode == "zero" else caught[("mlp", l)].mean(dim=1, keepdim=True).expand_as(out)
                    hooks.append(mlp.register_forward_hook(post))
            ablated = logprobs(model(x, use_cache=False).logits, ids)
            for hook in hooks:
                hook.remove()
            out_cases.append({"heads": chosen_heads, "mlps": chosen_mlps, "mode": mode, "logprob": ablated})
            print(f"{name}: heads {chosen_heads} mlps {chosen_mlps} {mode}: loss {-np.mean(baseline):.4f} -> {-np.mean(ablated):.4f}")
        meta = {"torch": torch.__version__, "transformers": transformers.__version__, "python": sys.version.split()[0],
                "command": "python scripts/make_ablation_fixture.py"}
        (ref / "ablation.json").write_text(json.dumps({"cases": out_cases, "baseline_logprob": baseline, "meta": meta}, indent=1) + "\n")


if __name__ == "__main__":
    main()
