"""torchrun on CPU (gloo, 2 processes) against one process.

The exact oracle for data parallelism: SAE steps on two ranks, each with half of a batch, give the weights of steps
taken by one process on the whole batch (gradients and statistics are summed over ranks). End to end, a data-parallel
run reads other batches than a single process, so only its reconstruction quality is compared; --split-sites is exact."""
import json, os, shutil, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch
from mamba_sae.sae import TopKSAE

SITES = 'blocks.1.hook_out_proj,blocks.3.hook_out_proj'
COMMON = ['--model', 'tiny', '--sites', SITES, '--tokens', '32768', '--batch-size', '1024', '--eval-tokens', '8192', '--seed', '0']
torchrun = shutil.which('torchrun') or str(Path(sys.executable).parent / 'torchrun')

def run(cmd, out):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'TQDM_DISABLE': '1'}
    r = subprocess.run([*cmd, *COMMON, '--out', str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads((out / 'evals.json').read_text())

@pytest.fixture(scope='module')
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp('one')
    return out, run([sys.executable, '-m', 'mamba_sae', 'train-saes'], out)

def test_data_parallel_matches_single_process(single, tmp_path):
    one_dir, one = single
    two = run([torchrun, '--standalone', '--nproc_per_node', '2', '-m', 'mamba_sae', 'train-saes'], tmp_path)
    assert set(two) == set(one)
    for s in one:
        # different batch composition (each rank reads its own sequences), same recipe: same reconstruction quality
        # (loss recovered of a 32-step SAE on the last layer varies too much between any two data orders to compare)
        assert abs(two[s]['fvu'] - one[s]['fvu']) < 0.1 * one[s]['fvu'] + 0.01, (s, one[s]['fvu'], two[s]['fvu'])
    assert json.loads((tmp_path / 'train_config.json').read_text())['world'] == 2

def test_split_sites_equals_single_process(single, tmp_path):
    one_dir, one = single
    two = run([torchrun, '--standalone', '--nproc_per_node', '2', '-m', 'mamba_sae', 'train-saes', '--split-sites'], tmp_path)
    assert set(two) == set(one)
    for s in SITES.split(','):
        a, b = TopKSAE.load(one_dir / s), TopKSAE.load(tmp_path / s)
        for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5, msg=f'{s} {n}')
    assert len(json.loads((tmp_path / 'metrics.json').read_text())) == len(json.loads((one_dir / 'metrics.json').read_text()))

STEP_DRIVER = textwrap.dedent("""
    import sys, torch
    from safetensors.torch import save_file
    from mamba_sae.model import process_group
    from mamba_sae.sae import TopKSAE
    from mamba_sae.train import TrainConfig, _sae_step
    dist = process_group(init=True)
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist else (0, 1)
    cfg = TrainConfig(batch_size=64, lr=1e-3, dead_tokens=0, warmup_steps=1, tokens=64 * 4)   # every latent dead: AuxK runs too
    sae = TopKSAE(16, 64, 4, seed=0)
    opt = torch.optim.Adam(sae.parameters(), lr=cfg.lr)
    since = torch.zeros(64, dtype=torch.long)
    g = torch.Generator().manual_seed(1)
    for step in range(3):
        x = torch.randn(64, 16, generator=g) * torch.linspace(0.5, 2, 16)   # the whole batch; each rank takes its half
        _sae_step(sae, opt, x.chunk(world)[rank], since, cfg, step, dist)
    if rank == 0: save_file({n: p.detach().contiguous() for n, p in sae.named_parameters()} | {'since': since}, sys.argv[1])
    if dist: dist.barrier(); dist.destroy_process_group()   # gloo's threads otherwise abort the process at exit, now and then
""")

def test_data_parallel_step_equals_one_process_on_the_whole_batch(tmp_path):
    from safetensors.torch import load_file
    drv = tmp_path / 'step.py'; drv.write_text(STEP_DRIVER)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    for cmd, out in (([sys.executable, str(drv)], 'one'), ([torchrun, '--standalone', '--nproc_per_node', '2', str(drv)], 'two')):
        r = subprocess.run([*cmd, str(tmp_path / f'{out}.safetensors')], env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    one, two = load_file(tmp_path / 'one.safetensors'), load_file(tmp_path / 'two.safetensors')
    assert torch.equal(one['since'], two['since'])
    for n in ('W_enc', 'b_enc', 'W_dec', 'b_dec'): torch.testing.assert_close(two[n], one[n], rtol=1e-5, atol=1e-6, msg=n)
    assert not torch.equal(one['W_dec'], TopKSAE(16, 64, 4, seed=0).W_dec.detach())   # the steps did move the weights
