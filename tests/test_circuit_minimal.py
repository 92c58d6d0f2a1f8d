"""The circuit that `mamba-sae circuit` writes, checked by a patcher written here from the SAE weights alone:
its value reproduces, and removing any one member drops it below the target (1-minimal)"""
import contextlib, io, json, os
import pytest, torch
import torch.nn.functional as F
from mamba_sae.cli import cli
from mamba_sae.tiny import load_tiny
from mamba_sae.load import load_tiny_saes
from mamba_sae.data import task_dataset

pytestmark = pytest.mark.skipif(os.environ.get('MAMBA_SAE_SKIP_SHIPPED') == '1', reason='checks the shipped weights')

def encode(sae, x):
    "Top-k SAE latents by hand from the weights: top k of ReLU((x - b_dec) W_enc + b_enc)"
    pre = F.relu((x - sae.b_dec) @ sae.W_enc + sae.b_enc)
    v, i = pre.topk(sae.k, dim=-1)
    return torch.zeros_like(pre).scatter(-1, i, v)

def last_ld(logits, ds):
    r = torch.arange(len(ds.clean))
    return logits[r, -1, ds.clean_answer] - logits[r, -1, ds.corrupt_answer]

def patched_nld(model, saes, ds, sites, keep):
    "Normalized logit difference with the features in `keep` computed and every other feature of `sites` corrupt"
    with torch.no_grad():
        _, cache = model.run_with_cache(ds.corrupt, names_filter=list(sites))
        corrupt = {s: encode(saes[s], cache[s]) for s in sites}
        def hook(x, hook):
            s, sae = hook.name, saes[hook.name]
            f = encode(sae, x)
            err = x - (f @ sae.W_dec + sae.b_dec)
            mask = torch.zeros(sae.d_sae, dtype=torch.bool)
            mask[[j for s2, j in keep if s2 == s]] = True
            return torch.where(mask, f, corrupt[s]) @ sae.W_dec + sae.b_dec + err
        ld_c, ld_k = last_ld(model(ds.clean), ds), last_ld(model(ds.corrupt), ds)
        with model.hooks([(s, hook) for s in sites]): ld_p = last_ld(model(ds.clean), ds)
    ok = (ld_c - ld_k).abs() > 1e-6 * ld_c.abs().clamp_min(1)   # pairs the corruption moves
    return ((ld_p - ld_k) / (ld_c - ld_k).abs())[ok].mean().item()

def test_cli_circuit_is_reproduced_and_1_minimal(tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        cli(['circuit', '--model', 'tiny', '--task', 'ioi', '--n', '60', '--seed', '7', '--no-progress',
             '--out', str(tmp_path)])
    res = json.loads((tmp_path / 'circuit.json').read_text())
    model, _ = load_tiny()
    saes = load_tiny_saes('output')
    ds = task_dataset('ioi', load_tiny()[1], 60, 7)
    keep = [tuple(f) for f in res['features']]
    assert res['minimal'] and res['achieved'] >= res['target'] and keep
    value = patched_nld(model, saes, ds, res['sites'], keep)
    assert abs(value - res['achieved']) < 1e-4, (value, res['achieved'])
    for k, node in enumerate(keep):
        without = patched_nld(model, saes, ds, res['sites'], [n for n in keep if n != node])
        assert without < res['target'], (node, without)
        assert abs(without - res['without'][k]) < 1e-4
    assert patched_nld(model, saes, ds, res['sites'], []) == pytest.approx(res['empty_set'], abs=1e-4)
