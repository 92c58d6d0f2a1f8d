"""Top-k SAE training step: sparse decode/backward (mamba_sae.sae) vs a dense top-k reference, same weights and batch.

Issue shape by default: d_in 768, d_sae 24576, k 32, 2048 tokens, fp32, CPU. One step = forward + backward
of FVU (+ AuxK/32 with --dead, a share of latents marked dead). Prints the time of each (best of
--repeats), the ratio, and the largest differences of loss and gradients between the two.
Usage: python bench/bench_sae.py [--d-in 768] [--d-sae 24576] [--k 32] [--tokens 2048] [--dead 0.0]
"""
import argparse
import torch
from _timing import best
from mamba_sae.scan import flush_denormal
from mamba_sae.sae import TopKSAE, dense_reference_losses

def step(sae, x, dead, sparse):
    sae.zero_grad(set_to_none=True)
    if sparse: o = sae(x, dead=dead); fvu, aux = o.fvu, o.auxk_loss
    else: fvu, aux = dense_reference_losses(sae, x, dead)
    (fvu + aux / 32).backward()
    return fvu.item(), aux.item(), [p.grad.clone() for p in sae.parameters()]

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--d-in', type=int, default=768); ap.add_argument('--d-sae', type=int, default=24576)
    ap.add_argument('--k', type=int, default=32); ap.add_argument('--tokens', type=int, default=2048)
    ap.add_argument('--dead', type=float, default=0.0); ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    torch.manual_seed(0)
    with flush_denormal():  # denormals are slow on x86 CPUs
        sae = TopKSAE(a.d_in, a.d_sae, a.k)
        with torch.no_grad(): sae.b_enc.normal_(std=0.01)
        x = torch.randn(a.tokens, a.d_in)
        dead = (torch.rand(a.d_sae) < a.dead) if a.dead > 0 else None
        s, d = step(sae, x, dead, True), step(sae, x, dead, False)
        gdiff = max(((gs - gd).abs().max() / gd.abs().max().clamp(min=1e-30)).item() for gs, gd in zip(s[2], d[2]))
        ts, td = best(lambda: step(sae, x, dead, True), a.repeats)[0], best(lambda: step(sae, x, dead, False), a.repeats)[0]
        print(f"shape: d_in={a.d_in} d_sae={a.d_sae} k={a.k} tokens={a.tokens} dead={a.dead} threads={torch.get_num_threads()}")
        print(f"loss sparse fvu={s[0]:.6f} aux={s[1]:.6f} | dense fvu={d[0]:.6f} aux={d[1]:.6f}; max rel grad diff {gdiff:.2e}")
        print(f"step time sparse {ts*1e3:.0f} ms, dense {td*1e3:.0f} ms; speed-up {td/ts:.2f}x")
