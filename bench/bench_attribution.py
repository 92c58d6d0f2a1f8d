"""Integrated gradients on SAE features: `attribute(method='ig')` (all (prompt, step) rows of a site in
batched forward/backward passes) vs a sequential loop over alpha (one forward/backward per step on all
prompts, as the method's original code ran it). Same model, SAEs, prompts and steps; prints both
times (best of --repeats), the ratio, and the largest score difference.

Default: the embedded tiny model (4 layers, d_model 128) with its shipped output-site SAEs
(d_sae 1024), IOI with 8 and 60 prompt pairs of 19 tokens, steps 10.
Two things make the batched version faster: (prompt, step) rows share passes (this matters when a
pass over the prompts alone is small: few prompts, or a GPU), and each site's passes re-run only the
blocks after it (start_at_layer) with the unembedding at the last position (this matters on CPU,
where a pass costs what its arithmetic costs at any batch size).
Usage: python bench/bench_attribution.py [--n 8 60] [--steps 10] [--kind output] [--batch-size 1024]
"""
import argparse
import torch
from _timing import best
from mamba_sae.scan import flush_denormal
from mamba_sae.tiny import load_tiny
from mamba_sae.load import load_tiny_saes
from mamba_sae.data import ioi_dataset, logit_diff
from mamba_sae.attribution import attribute, site_values

def sequential_ig(model, saes, ds, steps):
    "One forward/backward per (site, alpha) over all prompts; scores {site: [d_sae]}"
    vc, vk = site_values(model, saes, ds.clean), site_values(model, saes, ds.corrupt)
    out = {}
    for s, sae in saes.items():
        g = torch.zeros_like(vc.x[s])
        for j in range(steps):
            a = (j + .5) / steps
            x = (vc.x[s] + a * (vk.x[s] - vc.x[s])).requires_grad_(True)
            with model.hooks([(s, lambda t, hook: x)]):
                (gx,) = torch.autograd.grad(logit_diff(model(ds.clean), ds).sum(), x)
            g += gx / steps
        out[s] = ((vc.f[s].dense() - vk.f[s].dense()) * (g @ sae.W_dec.detach().T)).sum((0, 1))
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, nargs='+', default=[8, 60]); ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--kind', default='output'); ap.add_argument('--batch-size', type=int, default=1024)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    torch.manual_seed(0)
    with flush_denormal():  # denormals are slow on x86 CPUs
        model, tok = load_tiny(); saes = load_tiny_saes(a.kind)
        for n in a.n:
            ds = ioi_dataset(tok, n, seed=0)
            tb, attr = best(lambda: attribute(model, saes, ds, 'ig', a.steps, batch_size=a.batch_size, progress=False), a.repeats)
            tl, seq = best(lambda: sequential_ig(model, saes, ds, a.steps), a.repeats)
            diff = max(((attr.scores[s] - seq[s]).abs().max() / seq[s].abs().max()).item() for s in saes)
            print(f"shape: tiny model, {len(saes)} {a.kind} sites, d_sae={next(iter(saes.values())).d_sae}, prompts={len(ds)} x {ds.clean.shape[1]} tokens, "
                  f"steps={a.steps}, batch_size={a.batch_size}, threads={torch.get_num_threads()}")
            print(f"  batched IG {tb*1e3:.0f} ms | sequential loop over alpha {tl*1e3:.0f} ms | speed-up {tl/tb:.2f}x | max rel score diff {diff:.1e}")
