"""HookedMamba on a CUDA GPU: mamba-ssm's fused selective scan (scan_impl 'cuda') vs our chunked
PyTorch scan vs transformers' MambaForCausalLM, same random weights, same process. transformers
takes mamba-ssm's scan too when it can import it (with its PyTorch causal-conv fallback when
causal-conv1d is missing), so with the gpu extra installed its row is a kernel path as well.

130m-shaped by default (d_model 768, 24 layers, vocab 50280), batch 8 x L 1024. Prints the logits'
relative error against transformers, tokens/s and ratios for forward (fp32 and bf16 weights) and
forward+backward, the scan alone, and the peak GPU memory of a forward. Needs CUDA; the 'cuda' rows
need mamba-ssm (`pip install 'mamba-sae[gpu]'`) and are skipped without it.
Usage: python bench/bench_gpu.py [--layers 24] [--batch 8] [--L 1024] [--repeats 5] [--bwd-layers 4]
"""
import argparse
import torch
from mamba_sae.model import HookedMamba, MambaConfig, random_hf_mamba
from mamba_sae.scan import selective_scan, _mamba_ssm_scan

def cuda_best(fn, repeats):
    "Best of `repeats` timed calls (CUDA events) after one warm-up; seconds"
    fn(); torch.cuda.synchronize(); ts = []
    for _ in range(repeats):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e) / 1e3)
    return min(ts)

def peak_mb(fn):
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated()
    fn(); torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**20

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--layers', type=int, default=24); p.add_argument('--batch', type=int, default=8)
    p.add_argument('--L', type=int, default=1024); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--bwd-layers', type=int, default=4)
    a = p.parse_args()
    assert torch.cuda.is_available(), "bench_gpu needs a CUDA device"
    torch.manual_seed(0)
    cfg = MambaConfig(d_model=768, n_layer=a.layers, vocab_size=50280)
    hf = random_hf_mamba(cfg).cuda().eval()
    ours = HookedMamba.from_hf(hf).cuda().eval()
    have_cuda = _mamba_ssm_scan() is not None
    impls = ['chunked'] + (['cuda'] if have_cuda else [])
    ids = torch.randint(0, 50277, (a.batch, a.L), device='cuda')
    n_tok = a.batch * a.L
    print(f"{torch.cuda.get_device_name()}: 130m-shaped random model, {a.layers} layers, batch {a.batch} x L {a.L}; "
          f"mamba-ssm {'found' if have_cuda else 'NOT installed: cuda rows skipped'}")
    with torch.no_grad():
        ref = hf(ids[:2, :256]).logits
        for impl in impls:
            with ours.use_scan(impl): err = ((ours(ids[:2, :256]) - ref).norm() / ref.norm()).item()
            print(f"logits rel. error vs transformers (fp32, {impl}): {err:.2e}")
        t_hf = cuda_best(lambda: hf(ids).logits, a.repeats)
        print(f"forward fp32  transformers              {n_tok / t_hf:10.0f} tok/s")
        for impl in impls:
            with ours.use_scan(impl):
                t = cuda_best(lambda: ours(ids), a.repeats)
                print(f"forward fp32  ours ({impl:7s})             {n_tok / t:10.0f} tok/s   {t_hf / t:6.2f}x transformers   "
                      f"peak {peak_mb(lambda: ours(ids)):.0f} MB")
        ours16 = HookedMamba.from_hf(hf, dtype=torch.bfloat16).cuda().eval()
        for impl in impls:
            with ours16.use_scan(impl):
                t = cuda_best(lambda: ours16(ids), a.repeats)
                agree = (ours16(ids[:2, :256]).float().argmax(-1) == ref.argmax(-1)).float().mean().item()
            print(f"forward bf16  ours ({impl:7s})             {n_tok / t:10.0f} tok/s   {t_hf / t:6.2f}x transformers fp32   "
                  f"top-1 agreement with fp32 {agree:.1%}")
    # forward+backward on --bwd-layers blocks of the same shape (the chunked scan keeps every step's state for backward)
    hf = random_hf_mamba(MambaConfig(d_model=768, n_layer=a.bwd_layers, vocab_size=50280)).cuda()
    ours = HookedMamba.from_hf(hf).cuda()
    def fwd_bwd(m):
        m.zero_grad(set_to_none=True)
        out = m(ids).logits if m is hf else m(ids)
        out[:, -1].logsumexp(-1).sum().backward()
    t_hf = cuda_best(lambda: fwd_bwd(hf), max(1, a.repeats // 2))
    print(f"fwd+bwd fp32 ({a.bwd_layers} layers) transformers             {n_tok / t_hf:10.0f} tok/s")
    for impl in impls:
        with ours.use_scan(impl): t = cuda_best(lambda: fwd_bwd(ours), a.repeats)
        print(f"fwd+bwd fp32 ({a.bwd_layers} layers) ours ({impl:7s})             {n_tok / t:10.0f} tok/s   {t_hf / t:6.2f}x transformers")
    # the scan alone, at the model's shapes
    E, N = cfg.d_inner, cfg.d_state
    u, dt = torch.randn(a.batch, a.L, E, device='cuda'), torch.rand(a.batch, a.L, E, device='cuda') * 0.1
    A, B, C = -torch.rand(E, N, device='cuda') - 0.5, torch.randn(a.batch, a.L, N, device='cuda'), torch.randn(a.batch, a.L, N, device='cuda')
    D = torch.ones(E, device='cuda')
    ys, ts = {}, {}
    with torch.no_grad():
        for impl in impls:
            ts[impl] = cuda_best(lambda: selective_scan(u, dt, A, B, C, D, impl=impl), a.repeats)
            ys[impl] = selective_scan(u, dt, A, B, C, D, impl=impl)
    line = '   '.join(f"{impl} {ts[impl] * 1e3:.2f} ms" for impl in impls)
    if have_cuda:
        line += f"   chunked/cuda {ts['chunked'] / ts['cuda']:.1f}x; max |diff| {(ys['cuda'] - ys['chunked']).abs().max().item():.1e}"
    print(f"scan alone [{a.batch}, {a.L}, {E}] d_state {N}: {line}")

if __name__ == '__main__': main()
