"A training run killed with SIGKILL mid-way, resumed from its last checkpoint, ends with the weights of an uninterrupted run"
import subprocess, sys, time
import torch
from mamba_sae.sae import TopKSAE

SITE = 'blocks.1.hook_out_proj'
ARGS = [sys.executable, '-m', 'mamba_sae', 'train-saes', '--model', 'tiny', '--sites', SITE, '--tokens', str(200 * 512), '--batch-size', '512',
        '--eval-tokens', '0', '--checkpoint-every', '20', '--seed', '0']

def test_killed_run_resumes_exactly(tmp_path):
    subprocess.run([*ARGS, '--out', str(tmp_path / 'full')], check=True, capture_output=True, timeout=600)
    cut = tmp_path / 'cut'
    p = subprocess.Popen([*ARGS, '--out', str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (cut / 'checkpoints' / 'step_00000040').exists():
        assert p.poll() is None and time.time() - t0 < 300, "the run ended (or stalled) before its second checkpoint"
        time.sleep(0.02)
    p.kill(); p.wait()
    assert not (cut / SITE).exists(), "the run finished before it was killed"
    subprocess.run([*ARGS, '--out', str(cut), '--resume'], check=True, capture_output=True, timeout=600)
    a, b = TopKSAE.load(tmp_path / 'full' / SITE), TopKSAE.load(cut / SITE)
    for (n, x), (_, y) in zip(a.named_parameters(), b.named_parameters()): assert torch.equal(x, y), n
    assert (cut / 'metrics.json').read_text() == (tmp_path / 'full' / 'metrics.json').read_text()
