"""Draw nbs/images/overview.png, the figure at the top of the README and the docs' home page: the IOI
circuit search on the embedded default (faithfulness curve) and its sharpest copy features."""
from pathlib import Path
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
import torch
from mamba_sae.tiny import load_tiny
from mamba_sae.load import load_tiny_saes
from mamba_sae.data import ioi_dataset
from mamba_sae.attribution import attribute
from mamba_sae.search import rank_features, find_circuit, faithfulness_curve, plot_faithfulness
from mamba_sae.features import copy_scores, strongest_copy_feature, plot_copy_evidence
from mamba_sae.sites import Feature

torch.manual_seed(0)
model, tok = load_tiny(); saes = load_tiny_saes('output')
ds = ioi_dataset(tok, 100, seed=0)
attr = attribute(model, saes, ds, progress=False)   # the default: integrated gradients, one step (06_attribution)
scores = {s: copy_scores(model, sae, s, tok) for s, sae in saes.items()}
fig, axs = plt.subplots(1, 3, figsize=(15, 3.6))
# the method's default leaves layer 0 out of the search; the tiny model does much of IOI there, so both
for excl, label in (((0,), 'layer 0 left out (default)'), ((), 'all layers searched')):
    ranking = rank_features(attr, exclude_layers=excl)
    circuit = find_circuit(model, saes, ds, ranking, 0.8, prune=excl == (0,))   # pruning ~100 members: minutes
    plot_faithfulness(faithfulness_curve(model, saes, ds, ranking), circuit, ax=axs[0],
                      label=f'{label}: {len(circuit.features)} of {circuit.n_candidates}')
h, l = axs[0].get_legend_handles_labels()
keep = [i for i, t in enumerate(l) if not t.startswith(('circuit', 'prefix', 'bisection'))] + [l.index('bisection points')]
axs[0].legend([h[i] for i in keep], [l[i] for i in keep], fontsize=8)
axs[0].set_title('IOI circuits of the embedded default (★: the circuit found for 0.8)', fontsize=10)
for ax, kind in zip(axs[1:], ('duplicate', 'once')):
    s, f = strongest_copy_feature(scores, kind)   # classified with position-matched controls (08_features)
    plot_copy_evidence(copy_scores(model, saes[s], s, tok, seed=1), f, ax=ax,
                       title=f'a "{kind}" copy feature ({Feature(s, f)}), fresh probes')
fig.tight_layout()
out = Path(__file__).resolve().parent.parent / 'nbs' / 'images' / 'overview.png'
out.parent.mkdir(exist_ok=True); fig.savefig(out, dpi=90)
print(out)
