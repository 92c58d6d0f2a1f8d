"""The method in bfloat16 against float32: attribution (per-site IG, 1 step), one patched run of a circuit search and
the SAE encode, interleaved run by run in one process, with the score agreement (Spearman over the features taking part).

Default: the embedded tiny model with its shipped output-site SAEs, IOI with 60 prompt pairs. `--wide` uses
mamba-370m's width instead (d_model 1024, 2 layers, SAEs of 32768 latents, k 512, random weights, 48 random prompts
whose answers are the model's own top tokens).
`--train` times SAE training instead: the model forward that feeds it (fp32 against `autocast='bfloat16'`) and one
optimizer step of one SAE (fp32 against `sae_dtype='bfloat16'`: bf16 compute, float32 master weights), at the
chosen width.
Usage: python bench/bench_bf16.py [--repeats 5] [--wide] [--train]
"""
import argparse, time, warnings
import torch
from mamba_sae.scan import flush_denormal
from mamba_sae.attribution import attribute, rank_correlation
from mamba_sae.search import Patcher, rank_features

def inputs(wide:bool):
    if not wide:
        from mamba_sae.tiny import load_tiny
        from mamba_sae.load import load_tiny_saes
        from mamba_sae.data import ioi_dataset
        m32, tok = load_tiny(); m16, _ = load_tiny(dtype=torch.bfloat16)
        s32 = load_tiny_saes('output'); s16 = {s: sae.to(torch.bfloat16) for s, sae in load_tiny_saes('output').items()}
        return m32, m16, s32, s16, ioi_dataset(tok, 60, seed=0), 'tiny model, IOI 60 pairs'
    import sys, os, copy; sys.path.insert(0, os.path.dirname(__file__))
    from bench_scale import setup
    a = argparse.Namespace(d_model=1024, d_sae=32768, k=512, n=48, seq=20)
    m32, s32, ds = setup(a, 2, torch.device('cpu'))
    m16 = copy.deepcopy(m32).to(torch.bfloat16); s16 = {s: copy.deepcopy(v).to(torch.bfloat16) for s, v in s32.items()}
    return m32, m16, s32, s16, ds, 'd_model 1024, 2 layers, SAEs 32768 x k 512, 48 random prompts x 20'

def train(a):
    "Interleaved timings of the training forward and of one SAE step, fp32 against the bf16 options"
    from dataclasses import replace
    from mamba_sae.train import TrainConfig, site_activations, _sae_step, _new_sae
    m32, _, s32, _, ds, shape = inputs(a.wide)
    site = list(s32)[-1]; tokens = ds.clean
    x = site_activations(m32, tokens, [site], skip_special=False)[site]
    cfg = TrainConfig(expansion=s32[site].d_sae // s32[site].d_in, k=s32[site].k, batch_size=len(x))
    mixes = {'fp32': cfg, 'bf16': replace(cfg, autocast='bfloat16', sae_dtype='bfloat16')}
    state = {k: _new_sae(site, x.shape[-1], c, None, x.device) for k, c in mixes.items()}
    times = {k: {'model forward': [], 'SAE step': []} for k in mixes}
    for r in range(a.repeats + 1):
        for k, c in mixes.items():
            t = time.perf_counter(); site_activations(m32, tokens, [site], skip_special=False, autocast=c.autocast)
            t1 = time.perf_counter(); sae, opt, since = state[k]; _sae_step(sae, opt, x, since, c, r); t2 = time.perf_counter()
            if r: times[k]['model forward'].append(t1 - t); times[k]['SAE step'].append(t2 - t1)
    print(f"training, shape: {shape}; site {site}, {len(x)} tokens per step; threads {torch.get_num_threads()}; "
          f"{a.repeats} interleaved repeats")
    for what in ('model forward', 'SAE step'):
        ratios = sorted(b / f for f, b in zip(times['fp32'][what], times['bf16'][what]))
        print(f"  {what:13s} fp32 {min(times['fp32'][what]) * 1e3:8.0f} ms | bf16 {min(times['bf16'][what]) * 1e3:8.0f} ms | "
              f"bf16/fp32 per run: median {ratios[len(ratios) // 2]:.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--repeats', type=int, default=5); ap.add_argument('--wide', action='store_true')
    ap.add_argument('--train', action='store_true')
    a = ap.parse_args(); warnings.filterwarnings('ignore')
    if a.train:
        with flush_denormal(): train(a)
        raise SystemExit
    with flush_denormal():
        m32, m16, s32, s16, ds, shape = inputs(a.wide)
        runs = {'fp32': (m32, s32), 'bf16': (m16, s16)}
        times, attrs = {k: {'attribute': [], 'patched run': []} for k in runs}, {}
        nodes = None
        for r in range(a.repeats + 1):   # the first round warms up and is not timed
            for k, (m, s) in runs.items():
                t = time.perf_counter(); attrs[k] = attribute(m, s, ds, 'ig', 1, progress=False, batch_size=64)
                t1 = time.perf_counter()
                if nodes is None: nodes = rank_features(attrs[k]).nodes[:20]
                P = Patcher(m, s, ds, batch_size=64); t2 = time.perf_counter(); P.logit_diffs(nodes); t3 = time.perf_counter()
                if r: times[k]['attribute'].append(t1 - t); times[k]['patched run'].append(t3 - t2)
        a32, a16 = attrs['fp32'], attrs['bf16']
        part = {s: a32.counts[s] > 0 for s in a32.scores}
        v32 = torch.cat([a32.scores[s][part[s]] for s in part]); v16 = torch.cat([a16.scores[s].float()[part[s]] for s in part])
        print(f"shape: {shape}; threads {torch.get_num_threads()}; {a.repeats} interleaved repeats")
        for what in ('attribute', 'patched run'):
            ratios = sorted(b / f for f, b in zip(times['fp32'][what], times['bf16'][what]))
            print(f"  {what:12s} fp32 {min(times['fp32'][what]) * 1e3:8.0f} ms | bf16 {min(times['bf16'][what]) * 1e3:8.0f} ms | "
                  f"bf16/fp32 per run: median {ratios[len(ratios) // 2]:.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})")
        print(f"  scores of the {len(v32)} features taking part: Spearman bf16 vs fp32 {rank_correlation(v16, v32):.4f}; "
              f"top-20 overlap {len({x[:2] for x in a32.top(20)} & {x[:2] for x in a16.top(20)})}/20")
