"""Draw nbs/images/overview.png, the figure at the top of the README and the docs' home page: the IOI
circuit search on the embedded default (faithfulness curve) and its sharpest copy features."""
from pathlib import Path
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
import torch
from mamba_sae.tiny import load_tiny, load_tiny_saes
from mamba_sae.data import ioi_dataset
from mamba_sae.attribution import attribute
from mamba_sae.search import rank_features, find_circuit, faithfulness_curve, plot_faithfulness
from mamba_sae.features import copy_scores, sharpest_copy_feature, plot_repeat_pattern

torch.manual_seed(0)
model, tok = load_tiny(); saes = load_tiny_saes('output')
ds = ioi_dataset(tok, 100, seed=0)
ranking = rank_features(attribute(model, saes, ds, 'ig', 10, progress=False), exclude_layers=())  # the tiny model does much of IOI in layer 0
circuit = find_circuit(model, saes, ds, ranking, 0.8)
scores = {s: copy_scores(model, sae, s, tok) for s, sae in saes.items()}
fig, axs = plt.subplots(1, 3, figsize=(15, 3.6))
plot_faithfulness(faithfulness_curve(model, saes, ds, ranking), circuit, ax=axs[0], label='IOI, output-site SAEs')
axs[0].set_title(f'IOI circuit: {circuit.n_features} of {circuit.n_candidates} features keep {circuit.achieved:.2f}', fontsize=10)
for ax, kind in zip(axs[1:], ('duplicate', 'once')):
    s, f, words = sharpest_copy_feature(model, saes, scores, tok, kind)
    plot_repeat_pattern(model, saes[s], s, tok, f, words, ax=ax)
    ax.set_title(f'a "{kind}" copy feature ({s.split(".hook")[0]}, #{f})', fontsize=10)
fig.tight_layout()
out = Path(__file__).resolve().parent.parent / 'nbs' / 'images' / 'overview.png'
out.parent.mkdir(exist_ok=True); fig.savefig(out, dpi=90)
print(out)
