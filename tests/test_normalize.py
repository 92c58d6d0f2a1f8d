"""`TrainConfig(normalize=True)` end to end: the SAE trains on activations scaled by s (E‖x‖² = d_in on the first
batch), and the checkpoint it writes reads raw activations, the scale folded into its weights.

The oracle is a run without normalization on a model whose site is scaled by the same s (the layer's out_proj weights
multiplied by s, so its activations are exactly s·x): it trains on the same data, so the normalized run's saved SAE
on x must give that SAE's reconstruction of s·x divided by s, and the same latents."""
import copy, math
import torch
from mamba_sae import load_tiny, tiny_corpus, TrainConfig, train_saes, TopKSAE
from mamba_sae.train import ActivationBuffer, site_activations

def test_normalized_training_writes_an_sae_for_raw_activations(tmp_path):
    model, tok = load_tiny()
    site = 'blocks.1.hook_out_proj'
    corpus = tiny_corpus(tok, 64 * 64, seq_len=64, seed=5)
    cfg = TrainConfig(tokens=40 * 512, batch_size=512, buffer_seqs=16, normalize=True)
    buf = ActivationBuffer(model, [site], corpus, cfg.batch_size, cfg.buffer_seqs, cfg.model_batch, cfg.skip_special, cfg.seed)
    x0 = next(buf.batches())[1][site]
    s = math.sqrt(x0.shape[-1] / x0.pow(2).sum(-1).mean().item())   # the scale train_saes takes from its first batch
    assert not 0.5 < s < 2, s                                        # far from 1, so a missing fold would show
    train_saes(model, [site], corpus, cfg, out=tmp_path / 'norm', progress=False)
    scaled = copy.deepcopy(model)
    with torch.no_grad(): scaled.blocks[1].out_proj.weight.mul_(s)
    ref = train_saes(scaled, [site], corpus, TrainConfig(**{**vars(cfg), 'normalize': False}), progress=False)[site]
    sae = TopKSAE.load(tmp_path / 'norm' / site)
    x = site_activations(model, tiny_corpus(tok, 8 * 64, seq_len=64, seed=77), [site])[site]
    with torch.no_grad(): got, want = sae(x), ref(s * x)
    # positions where the two runs pick the same k latents: a near-tie can swap one latent between them, which changes
    # that position's reconstruction a lot and is rounding (the CPU's kernels), not a missing fold (that moves them all)
    agree = (got.top_indices.sort(-1).values == want.top_indices.sort(-1).values).all(-1)
    assert agree.float().mean() > 0.99, agree.float().mean()
    torch.testing.assert_close(got.recon[agree], want.recon[agree] / s, rtol=1e-3,
                               atol=1e-4 * want.recon.abs().max().item() / s)
