"""HookedMamba vs transformers' MambaForCausalLM (pure-PyTorch path), same random weights, same process.

130m-shaped by default (d_model 768, 24 layers, vocab 50280), fp32, CPU. Prints tokens/s and the
ratio to transformers for: forward at L=512, forward+backward at L=512 (on --bwd-layers blocks of the
same shape: transformers' backward through its Python scan loop takes minutes per layer here), our
scan implementations, and our bf16 option; peak
activation memory of a forward at L=2048 is measured in subprocesses (RSS high-water mark minus the
RSS before the forward). Usage: python bench/bench_model.py [--layers 24] [--L 512] [--repeats 3]
"""
import argparse, json, subprocess, sys, time
import torch
from mamba_sae.model import HookedMamba, MambaConfig, random_hf_mamba
from mamba_sae.scan import flush_denormal

def cfg_130m(layers): return MambaConfig(d_model=768, n_layer=layers, vocab_size=50280)

def timeit(fn, repeats):
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return min(ts)

def fwd(m, ids, hf):
    with torch.no_grad(): return m(ids).logits if hf else m(ids)

def fwd_bwd(m, ids, hf):
    m.zero_grad(set_to_none=True)
    out = m(ids).logits if hf else m(ids)
    out[:, -1].logsumexp(-1).sum().backward()

def rss_kb(field):
    for line in open('/proc/self/status'):
        if line.startswith(field): return int(line.split()[1])

@flush_denormal()
def memory_child(which, layers, L):
    "Run in a subprocess: activation memory (MB) of one no-grad forward at length L"
    hf = random_hf_mamba(cfg_130m(layers))
    m = hf if which == 'hf' else HookedMamba.from_hf(hf)
    ids = torch.randint(0, 50277, (1, L))
    fwd(m, ids[:, :8], which == 'hf')
    before = rss_kb('VmRSS')
    # reset the high-water mark so that it measures this forward only
    open('/proc/self/clear_refs', 'w').write('5')
    out = fwd(m, ids, which == 'hf')
    print(json.dumps({'mb': (rss_kb('VmHWM') - before) / 1024, 'out_mb': out.numel() * out.element_size() / 2**20}))

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--layers', type=int, default=24); p.add_argument('--L', type=int, default=512)
    p.add_argument('--mem-L', type=int, default=2048); p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--bwd-layers', type=int, default=2); p.add_argument('--child', default=None)
    a = p.parse_args()
    if a.child: return memory_child(a.child, a.layers, a.mem_L)
    torch.manual_seed(0)
    with flush_denormal(): bench(a)

def bench(a):
    cfg = cfg_130m(a.layers)
    hf = random_hf_mamba(cfg)
    ours = HookedMamba.from_hf(hf)
    ids = torch.randint(0, 50277, (1, a.L))
    err = ((fwd(ours, ids, False) - fwd(hf, ids, True)).norm() / fwd(hf, ids, True).norm()).item()
    print(f"130m-shaped: d_model 768, {a.layers} layers, vocab 50280, L={a.L}, batch 1, fp32, {torch.get_num_threads()} threads")
    print(f"relative error of logits vs transformers: {err:.2e}")
    flop = 2 * sum(p.numel() for n, p in ours.named_parameters() if p.dim() == 2 and 'embedding' not in n) + 2 * cfg.d_model * cfg.d_vocab
    rows = {}
    t_hf = timeit(lambda: fwd(hf, ids, True), a.repeats)
    for impl in ('chunked', 'auto'):
        with ours.use_scan(impl): t_us = timeit(lambda: fwd(ours, ids, False), a.repeats)
        rows[impl] = a.L / t_us
        print(f"forward ({impl:7s})  transformers {a.L / t_hf:8.1f} tok/s   ours {a.L / t_us:8.1f} tok/s   ratio {t_hf / t_us:5.2f}x")
    rows['forward'] = (a.L / t_hf, rows['auto'])
    hf_b = random_hf_mamba(cfg_130m(a.bwd_layers)); ours_b = HookedMamba.from_hf(hf_b)
    t_hf = timeit(lambda: fwd_bwd(hf_b, ids, True), 1)
    for impl in ('chunked', 'auto'):
        with ours_b.use_scan(impl): t_us = timeit(lambda: fwd_bwd(ours_b, ids, False), a.repeats)
        print(f"fwd+bwd {a.bwd_layers} layers ({impl:7s}) transformers {a.L / t_hf:8.1f} tok/s   ours {a.L / t_us:8.1f} tok/s   ratio {t_hf / t_us:5.2f}x")
    # matmul bound: the model's own GEMMs alone, timed at this length (everything else is overhead on top)
    E, R, N = cfg.d_inner, cfg.dt_rank, cfg.d_state
    gemms = [(768, 2 * E, a.layers), (E, R + 2 * N, a.layers), (R, E, a.layers), (E, 768, a.layers), (768, cfg.d_vocab, 1)]
    t_mm = 0.
    for k, n, times in gemms:
        x, w = torch.randn(a.L, k), torch.randn(n, k)
        t_mm += times * timeit(lambda: torch.nn.functional.linear(x, w), 20)  # min of many: this machine is noisy
    print(f"matmul bound: {flop / 1e6:.0f} MFLOP/token; the model's GEMMs alone take {t_mm:.2f} s "
          f"({flop * a.L / t_mm / 1e9:.0f} GFLOP/s) -> bound {a.L / t_mm:.0f} tok/s; ours reaches {rows['forward'][1] * t_mm / a.L:.0%} of it, "
          f"transformers {rows['forward'][0] * t_mm / a.L:.0%}")
    # bf16 option
    ours16 = HookedMamba.from_hf(hf, dtype=torch.bfloat16)
    t16 = timeit(lambda: fwd(ours16, ids, False), a.repeats)
    l32, l16 = fwd(ours, ids, False), fwd(ours16, ids, False).float()
    agree = (l32[0].argmax(-1) == l16[0].argmax(-1)).float().mean().item()
    print(f"bf16 weights       ours {a.L / t16:8.1f} tok/s   ({rows['forward'][1] / (a.L / t16):.2f}x fp32 time)  "
          f"logit rel err {((l16 - l32).norm() / l32.norm()).item():.2e}, top-1 agreement {agree:.1%}")
    mem = {}
    for which in ('hf', 'ours'):
        r = subprocess.run([sys.executable, __file__, '--child', which, '--layers', str(a.layers), '--mem-L', str(a.mem_L)],
                           capture_output=True, text=True, check=True)
        mem[which] = json.loads(r.stdout.strip().splitlines()[-1])
    hf_mb, us_mb, out_mb = mem['hf']['mb'], mem['ours']['mb'], mem['ours']['out_mb']
    print(f"forward peak memory at L={a.mem_L} (RSS high-water mark above the loaded model): transformers {hf_mb:.0f} MB, "
          f"ours {us_mb:.0f} MB ({us_mb / hf_mb:.0%}); of which the logits returned: {out_mb:.0f} MB; "
          f"intermediate activations beyond the logits: transformers {hf_mb - out_mb:.0f} MB, ours {us_mb - out_mb:.0f} MB "
          f"({(us_mb - out_mb) / (hf_mb - out_mb):.0%})")

if __name__ == '__main__': main()
