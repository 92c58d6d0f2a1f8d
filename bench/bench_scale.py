"""The method at a real model's width: time and peak memory of attribution (per-site and joint integrated
gradients), the circuit search and top activations, against depth, with random weights.

Default: mamba-370m's width (d_model 1024, vocabulary 50280), one output-site SAE per layer of 32768 latents
and k 512 (random, unit-norm decoder), 48 prompt pairs of 20 random tokens whose answers are the model's own
top tokens (so the task has a range), 3 steps, 16 (prompt, step) rows per pass (`batch_size`, the memory knob);
4 and 8 layers (add 16 with --layers 4 8 16). `--figure PNG` draws time and added memory against depth.
Each (depth, part) runs in a fresh subprocess; the baseline is that process's memory once the model, the SAEs
and the prompts are loaded, and the peak is sampled every 2 ms while the part runs (CUDA: max_memory_allocated).
The parent prints a table, the ratios of each part's time and added memory to its value at the smallest depth,
a power-law fit of time against depth, and extrapolations to mamba-370m (48 layers) and mamba-2.8b
(64 layers, d_model 2560: time per layer scaled by (2560/1024)^2, activation memory by 2560/1024).

Usage: python bench/bench_scale.py [--layers 4 8] [--parts site,joint,search,top] [--device cpu|cuda]
       [--d-model 1024] [--d-sae 32768] [--k 512] [--n 48] [--seq 20] [--steps 3] [--json OUT] [--figure PNG]
"""
import argparse, json, math, os, subprocess, sys, threading, time
import torch

PARTS = ('site', 'joint', 'search', 'top')

def rss_mb()->float:
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20

class Peak:
    "Peak memory (MB) above the level at entry, while the block runs: RSS sampled every 2 ms, or CUDA's allocator"
    def __init__(self, device): self.cuda = device.type == 'cuda'
    def __enter__(self):
        if self.cuda:
            torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); self.base = torch.cuda.memory_allocated() / 2**20
        else:
            self.base = self.peak = rss_mb(); self.run = True
            def sample():
                while self.run: self.peak = max(self.peak, rss_mb()); time.sleep(0.002)
            self.t = threading.Thread(target=sample, daemon=True); self.t.start()
        self.t0 = time.perf_counter(); return self
    def __exit__(self, *a):
        if self.cuda: torch.cuda.synchronize(); self.peak = torch.cuda.max_memory_allocated() / 2**20
        self.seconds = time.perf_counter() - self.t0
        if not self.cuda: self.run = False; self.t.join(); self.peak = max(self.peak, rss_mb())
        self.added = self.peak - self.base

def setup(a, n_layer:int, device):
    "Random model, SAEs and a task whose answers are the model's own top tokens"
    from mamba_sae.model import HookedMamba, MambaConfig
    from mamba_sae.sae import TopKSAE
    from mamba_sae.data import PatchingDataset
    from mamba_sae.sites import site
    torch.manual_seed(0)
    model = HookedMamba(MambaConfig(d_model=a.d_model, n_layer=n_layer, vocab_size=50277)).to(device).eval()
    saes = {site(l): TopKSAE(a.d_model, a.d_sae, a.k, hook_name=site(l), seed=l, device=device) for l in range(n_layer)}
    for s in saes.values(): s.requires_grad_(False)
    g = torch.Generator().manual_seed(1)
    clean = torch.randint(model.cfg.vocab_size, (a.n, a.seq), generator=g).to(device)
    corrupt = torch.randint(model.cfg.vocab_size, (a.n, a.seq), generator=g).to(device)
    with torch.no_grad():
        ans = [torch.cat([model(t[i:i + 16])[:, -1].argmax(-1) for i in range(0, a.n, 16)]) for t in (clean, corrupt)]
    ds = PatchingDataset(clean, corrupt, ans[0], ans[1], [''] * a.n, [''] * a.n, task='random')
    return model, saes, ds

def one(a, n_layer:int, part:str)->dict:
    "Run one part at one depth in this process; the measurement as a dict"
    import warnings
    from mamba_sae.attribution import attribute
    from mamba_sae.search import rank_features, find_circuit
    from mamba_sae.features import top_activations
    from mamba_sae.scan import flush_denormal
    warnings.filterwarnings('ignore')
    device = torch.device(a.device)
    with flush_denormal():
        model, saes, ds = setup(a, n_layer, device)
        base = torch.cuda.memory_allocated() / 2**20 if device.type == 'cuda' else rss_mb()
        if part == 'search':   # the search's own cost: the ranking comes from a joint attribution run before it
            attr = attribute(model, saes, ds, 'ig', a.steps, joint=True, batch_size=a.batch_size, progress=False)
            ranking = rank_features(attr, exclude_layers=(0,))
        if part == 'top':
            g = torch.Generator().manual_seed(2)
            corpus = torch.randint(model.cfg.vocab_size, (a.top_seqs, 128), generator=g)
        with Peak(device) as p:
            if part in ('site', 'joint'):
                attribute(model, saes, ds, 'ig', a.steps, joint=part == 'joint', batch_size=a.batch_size, progress=False)
            elif part == 'search':
                c = find_circuit(model, saes, ds, ranking, target=0.8, prune=False, batch_size=a.batch_size, progress=False)
            else:
                s = list(saes)[-1]
                top_activations(model, saes[s], s, corpus.to(device), k=20, batch_size=16, progress=False)
    out = dict(layers=n_layer, part=part, seconds=p.seconds, added_mb=p.added, base_mb=base, device=a.device,
               threads=torch.get_num_threads())
    if part == 'search': out.update(circuit=len(c.features), evaluations=c.evaluations)
    return out

def fit_power(xs, ys)->tuple[float, float]:
    "(c, p) of y = c * x^p, least squares in log-log"
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-9)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    p = sum((u - mx) * (v - my) for u, v in zip(lx, ly)) / max(sum((u - mx) ** 2 for u in lx), 1e-12)
    return math.exp(my - p * mx), p

def fit_line(xs, ys)->tuple[float, float]:
    "(a, b) of y = a + b * x, least squares"
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((u - mx) * (v - my) for u, v in zip(xs, ys)) / max(sum((u - mx) ** 2 for u in xs), 1e-12)
    return my - b * mx, b

def report(rows:list, a)->list[str]:
    lines = [f"shape: d_model {a.d_model}, SAEs {a.d_sae} latents k {a.k} at every output site, {a.n} prompts x {a.seq} "
             f"tokens, {a.steps} steps, batch_size {a.batch_size}, device {a.device}, threads {rows[0]['threads']}",
             f"{'part':8s} {'layers':>6s} {'seconds':>9s} {'x smallest':>10s} {'added MB':>9s} {'base MB':>8s}"]
    out = {}
    for part in a.parts:
        rs = sorted([r for r in rows if r['part'] == part], key=lambda r: r['layers'])
        if not rs: continue
        for r in rs:
            lines.append(f"{part:8s} {r['layers']:6d} {r['seconds']:9.2f} {r['seconds'] / rs[0]['seconds']:10.2f} "
                         f"{r['added_mb']:9.0f} {r['base_mb']:8.0f}" + (f"   circuit {r['circuit']} in {r['evaluations']} runs"
                                                                      if part == 'search' else ''))
        if len(rs) > 1:
            L = [r['layers'] for r in rs]
            c, p = fit_power(L, [r['seconds'] for r in rs]); m0, m1 = fit_line(L, [r['added_mb'] for r in rs])
            w = (2560 / a.d_model)
            out[part] = dict(time_exponent=p, t48=c * 48 ** p, t64=c * 64 ** p * w ** 2, mb48=m0 + m1 * 48, mb64=(m0 + m1 * 64) * w)
            lines.append(f"{'':8s} fit: time ~ layers^{p:.2f}; added memory {m0:.0f} + {m1:.1f} MB/layer; "
                         f"extrapolated: 370m (48 layers) {out[part]['t48']:.0f} s, {out[part]['mb48'] / 1024:.2f} GB; "
                         f"2.8b (64 layers, d 2560) {out[part]['t64']:.0f} s, {out[part]['mb64'] / 1024:.2f} GB")
    return lines

def plot(rows:list, a):
    "Time and added peak memory against depth, one line per part"
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, 2, figsize=(9, 3.4))
    names = dict(site='attribution, per-site IG', joint='attribution, joint IG', search='circuit search', top='top activations')
    for part in a.parts:
        rs = sorted([r for r in rows if r['part'] == part], key=lambda r: r['layers'])
        L = [r['layers'] for r in rs]
        axs[0].plot(L, [r['seconds'] for r in rs], 'o-', label=names[part])
        axs[1].plot(L, [r['added_mb'] / 1024 for r in rs], 'o-', label=names[part])
    axs[0].set(xlabel='layers', ylabel='seconds', title=f"time ({a.device}, {rows[0]['threads']} threads)")
    axs[1].set(xlabel='layers', ylabel='GB above model + SAEs', title='added peak memory')
    for ax in axs: ax.set_xticks(sorted({r['layers'] for r in rows})); ax.grid(alpha=.3)
    axs[0].legend(fontsize=8)
    fig.suptitle(f"d_model {a.d_model}, SAEs {a.d_sae} x k {a.k} at every layer, {a.n} prompts x {a.seq} tokens, {a.steps} steps", fontsize=9)
    plt.tight_layout()
    return fig

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--layers', type=int, nargs='+', default=[4, 8])
    ap.add_argument('--parts', default=','.join(PARTS))
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--d-model', type=int, default=1024); ap.add_argument('--d-sae', type=int, default=32768)
    ap.add_argument('--k', type=int, default=512); ap.add_argument('--n', type=int, default=48)
    ap.add_argument('--seq', type=int, default=20); ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=16); ap.add_argument('--top-seqs', type=int, default=32)
    ap.add_argument('--json'); ap.add_argument('--figure'); ap.add_argument('--one', nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(); a.parts = [p for p in a.parts.split(',') if p]
    bad = [p for p in a.parts if p not in PARTS]
    if bad: sys.exit(f"unknown parts {bad}; choose from {list(PARTS)}")
    if a.one:
        print(json.dumps(one(a, int(a.one[0]), a.one[1]))); sys.exit(0)
    rows = []
    for L in a.layers:
        for part in a.parts:
            cmd = [sys.executable, __file__, '--one', str(L), part] + [x for x in sys.argv[1:]]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode: sys.exit(f"{part} at {L} layers failed:\n{r.stderr[-2000:]}")
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(f"  {part} {L} layers: {rows[-1]['seconds']:.1f} s, +{rows[-1]['added_mb']:.0f} MB", flush=True)
    print('\n'.join(report(rows, a)))
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(settings={k: v for k, v in vars(a).items() if k not in ('one', 'json', 'figure')},
                                                    rows=rows), f, indent=1)
    if a.figure: plot(rows, a).savefig(a.figure, dpi=120, bbox_inches='tight')
