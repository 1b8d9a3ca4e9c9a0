"""Activation patching computed with PyTorch hooks on transformers' own modules (issue 24).

For two committed fixtures (gpt2-bytes-noprefix, llama-tiny-gqa; weights untouched): the clean
prompt is the fixture's reference prompt, the corrupted one the same ids with position 2 (and
4) replaced by other ids. The answer is the clean run's likeliest token after the last
position. Each case runs the corrupted prompt with one piece of the clean run put back:
  - residual: the output of block L (resid_post) at one position;
  - head: head H's slice of block L's output-projection input (hook_z), at every position.
Writes Tests/TransformerTests/Fixtures/<fixture>/reference/patching.json:
  {"clean_ids", "corrupt_ids", "answer", "clean_p", "corrupt_p",
   "cases": [{"site": "residual", "layer", "position", "p"} | {"site": "head", "layer", "head", "p"}]}

Run: /work/venv/bin/python scripts/make_patching_fixture.py
"""
import json
import sys
from pathlib import Path

import torch
import transformers
from transformers import GPT2LMHeadModel, LlamaForCausalLM

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "TransformerTests" / "Fixtures"
MODELS = {"gpt2-bytes-noprefix": GPT2LMHeadModel, "llama-tiny-gqa": LlamaForCausalLM}


def blocks(model):
    if isinstance(model, GPT2LMHeadModel):
        return [(b, b.attn.c_proj) for b in model.transformer.h], model.config.n_head
    return [(b, b.self_attn.o_proj) for b in model.model.layers], model.config.num_attention_heads


def main() -> None:
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    for name, cls in MODELS.items():
        folder = FIXTURES / name
        model = cls.from_pretrained(folder, attn_implementation="eager").float().eval()
        ref = folder / "reference"
        clean = json.loads((ref / "prompt_ids.json").read_text())
        vocab = model.config.vocab_size
        corrupt = list(clean)
        for p in (2, 4):
            corrupt[p] = (clean[p] + 7) % vocab
        layers, heads = blocks(model)
        # The clean run: every block's output and every projection's input.
        caught, hooks = {}, []
        for l, (block, projection) in enumerate(layers):
            hooks.append(block.register_forward_hook(
                lambda m, a, out, l=l: caught.__setitem__(("resid", l), (out[0] if isinstance(out, tuple) else out).clone())))
            hooks.append(projection.register_forward_pre_hook(lambda m, a, l=l: caught.__setitem__(("z", l), a[0].clone())))
        clean_probs = torch.softmax(model(torch.tensor([clean]), use_cache=False).logits[0, -1].double(), -1)
        for hook in hooks:
            hook.remove()
        answer = int(clean_probs.argmax())

        def run(hooks_to_add):
            added = [register() for register in hooks_to_add]
            p = torch.softmax(model(torch.tensor([corrupt]), use_cache=False).logits[0, -1].double(), -1)[answer]
            for hook in added:
                hook.remove()
            return float(p)

        cases = []
        for l, (block, projection) in enumerate(layers):
            for position in range(len(clean)):
                def patch_resid(m, a, out, l=l, position=position):
                    hidden = (out[0] if isinstance(out, tuple) else out).clone()
                    hidden[:, position] = caught[("resid", l)][:, position]
                    return (hidden,) + tuple(out[1:]) if isinstance(out, tuple) else hidden
                p = run([lambda block=block, f=patch_resid: block.register_forward_hook(f)])
                cases.append({"site": "residual", "layer": l, "position": position, "p": p})
            size = caught[("z", l)].shape[-1] // heads
            for h in range(heads):
                def patch_head(m, a, l=l, h=h):
                    z = a[0].clone()
                    z[..., h * size:(h + 1) * size] = caught[("z", l)][..., h * size:(h + 1) * size]
                    return (z,)
                p = run([lambda projection=projection, f=patch_head: projection.register_forward_pre_hook(f)])
                cases.append({"site": "head", "layer": l, "head": h, "p": p})
        corrupt_p = run([])
        out = {"clean_ids": clean, "corrupt_ids": corrupt, "answer": answer, "clean_p": float(clean_probs[answer]),
               "corrupt_p": corrupt_p, "cases": cases,
               "meta": {"torch": torch.__version__, "transformers": transformers.__version__, "python": sys.version.split()[0],
                        "command": "python scripts/make_patching_fixture.py"}}
        (ref / "patching.json").write_text(json.dumps(out, indent=1) + "\n")
        last = [c for c in cases if c["site"] == "residual" and c["position"] == len(clean) - 1][-1]
        print(f"{name}: answer {answer}, clean p {out['clean_p']:.4f}, corrupt p {corrupt_p:.4f}, "
              f"last layer at the last position restores p {last['p']:.4f}")


if __name__ == "__main__":
    main()
