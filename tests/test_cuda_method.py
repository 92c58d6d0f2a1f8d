"""The method end to end on CUDA equals the same on CPU: the embedded default and its SAEs on the GPU,
prompt datasets built on the CPU as usual (token ids follow the model). Skipped without CUDA."""
import pytest, torch
from mamba_sae.tiny import load_tiny
from mamba_sae.load import load_tiny_saes
from mamba_sae.data import ioi_dataset
from mamba_sae.attribution import attribute
from mamba_sae.search import rank_features, find_circuit, evaluate_set
from mamba_sae.patching import token_movement

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

def run_method(device):
    model, tok = load_tiny(device=device)
    with model.use_scan('chunked'):   # the same scan on both devices: the comparison is about device handling
        saes = load_tiny_saes('output', device=device)
        ds = ioi_dataset(tok, 24, seed=0)
        attr = attribute(model, saes, ds, 'ig', 4, edges=True, progress=False)
        ranking = rank_features(attr)
        circuit = find_circuit(model, saes, ds, ranking, target=0.8)
        return dict(scores={s: v.cpu() for s, v in attr.scores.items()}, nodes=ranking.nodes[:20], circuit=circuit,
                    held=evaluate_set(model, saes, ioi_dataset(tok, 24, seed=1), circuit.features, sites=ranking.sites),
                    movement=token_movement(model, ds)['per_layer'].cpu())

def test_method_on_cuda_matches_cpu():
    cpu, gpu = run_method('cpu'), run_method('cuda')
    for s in cpu['scores']: torch.testing.assert_close(gpu['scores'][s], cpu['scores'][s], rtol=1e-3, atol=1e-3)
    assert gpu['circuit'].n_features == cpu['circuit'].n_features
    assert abs(gpu['circuit'].achieved - cpu['circuit'].achieved) < 1e-3
    assert abs(gpu['held'] - cpu['held']) < 1e-3
    torch.testing.assert_close(gpu['movement'], cpu['movement'], rtol=1e-3, atol=1e-3)

def test_sae_training_features_and_evals_on_cuda():
    "SAEs train on CUDA activations; evals, top activations and copy scores on CUDA equal those on CPU for the same SAE"
    from mamba_sae.tiny import tiny_corpus
    from mamba_sae.train import TrainConfig, train_saes
    from mamba_sae.evals import evaluate_saes
    from mamba_sae.features import top_activations, copy_scores
    model, tok = load_tiny(device='cuda')
    with model.use_scan('chunked'):
        cpu_model, _ = load_tiny()
        site = 'blocks.1.hook_out_proj'
        saes = train_saes(model, [site], tiny_corpus(tok, 64 * 128, seed=3), TrainConfig(tokens=30 * 256, batch_size=256, buffer_seqs=16), progress=False)
        sae = saes[site]
        assert sae.W_dec.is_cuda
        held = tiny_corpus(tok, 8 * 128, seed=4)
        ev_gpu, ev_cpu = evaluate_saes(model, {site: sae}, held)[site], evaluate_saes(cpu_model, {site: sae.cpu()}, held)[site]
        for k in ('fvu', 'loss_recovered', 'kl'): assert abs(ev_gpu[k] - ev_cpu[k]) < 1e-3, (k, ev_gpu[k], ev_cpu[k])
        top_gpu = top_activations(model, sae.cuda(), site, held, k=5, progress=False)
        top_cpu = top_activations(cpu_model, sae.cpu(), site, held, k=5, progress=False)
        torch.testing.assert_close(top_gpu.values, top_cpu.values, rtol=1e-3, atol=1e-3)
        # top-k ties may break differently on the two devices: allow a few flips of which latents are active
        assert (top_gpu.n_active - top_cpu.n_active).abs().sum() <= 1e-3 * top_cpu.n_active.sum()
        cs_gpu, cs_cpu = copy_scores(model, sae.cuda(), site, tok), copy_scores(cpu_model, sae.cpu(), site, tok)
        dup_gpu, dup_cpu = set(cs_gpu.features('duplicate')), set(cs_cpu.features('duplicate'))
        assert len(dup_gpu ^ dup_cpu) <= max(1, len(dup_cpu) // 10), (dup_gpu, dup_cpu)

def test_cli_circuit_on_cuda(tmp_path):
    "mamba-sae circuit --device cuda writes the circuit that --device cpu writes"
    import json
    from mamba_sae.cli import cli
    res = {}
    for dev in ('cpu', 'cuda'):
        cli(['circuit', '--model', 'tiny', '--task', 'ioi', '--n', '24', '--steps', '4', '--device', dev, '--no-progress', '--out', str(tmp_path / dev)])
        res[dev] = json.loads((tmp_path / dev / 'circuit.json').read_text())
    assert res['cuda']['n_features'] == res['cpu']['n_features']
    assert abs(res['cuda']['achieved'] - res['cpu']['achieved']) < 1e-3
