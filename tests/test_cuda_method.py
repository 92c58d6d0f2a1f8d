"""The method end to end on CUDA equals the same on CPU: the embedded default and its SAEs on the GPU,
prompt datasets built on the CPU as usual (token ids follow the model). Skipped without CUDA."""
import pytest, torch
from mamba_sae.tiny import load_tiny, load_tiny_saes
from mamba_sae.data import ioi_dataset
from mamba_sae.attribution import attribute
from mamba_sae.search import rank_features, find_circuit, evaluate_set
from mamba_sae.patching import token_movement

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

def run_method(device):
    model, tok = load_tiny(device=device)
    model.scan_impl = 'chunked'   # the same scan on both devices: the comparison is about device handling
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
