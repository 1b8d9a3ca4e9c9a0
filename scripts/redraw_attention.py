"""Redraw a Lantern attention picture from a trace with NumPy and Matplotlib.
Usage: python3 scripts/redraw_attention.py TRACE_DIR LAYER HEAD OUT.png"""
import json, sys
import numpy as np, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
trace, layer, head, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
meta = json.load(open(f"{trace}/trace.json"))
pattern = np.load(f"{trace}/blocks.{layer}.attn.pattern.npy")[head]  # axes: head, query, key
n = pattern.shape[0]
pieces = meta["pieces"][:n]
future = np.triu(np.ones((n, n)), 1) > 0  # a token cannot look at later tokens
plt.imshow(np.ma.masked_where(future, pattern), cmap="viridis", vmin=0, vmax=1)
plt.xticks(range(n), pieces, rotation=90), plt.yticks(range(n), pieces)
plt.colorbar(label="attention"), plt.title(f"layer {layer}, head {head}")
plt.tight_layout(), plt.savefig(out)
print(f"rows sum to {pattern.sum(1).min():.4f}-{pattern.sum(1).max():.4f}")
