"""The method in bfloat16 (how real models are loaded on GPUs) against the same run in float32 on the embedded default.

bf16 keeps 8 bits of mantissa, so the check is agreement within bf16's precision, not equality: the logits, the value
of a patched run, and which features attribution puts on top."""
import torch
from mamba_sae import load_tiny, load_tiny_saes, ioi_dataset, attribute, evaluate_set, rank_features, splice

def test_bf16_method_agrees_with_float32():
    m32, tok = load_tiny(); m16, _ = load_tiny(dtype=torch.bfloat16)
    s32 = load_tiny_saes('output'); s16 = {s: sae.to(torch.bfloat16) for s, sae in load_tiny_saes('output').items()}
    assert next(m16.parameters()).dtype == torch.bfloat16 and s16['blocks.1.hook_out_proj'].W_dec.dtype == torch.bfloat16
    ds = ioi_dataset(tok, 20, seed=3)
    with torch.no_grad():
        l32, l16 = m32(ds.clean), m16(ds.clean)
        with splice(m16, s16): spliced = m16(ds.clean)   # error terms kept: the spliced bf16 model is the bf16 model
    assert l16.dtype == torch.bfloat16
    assert ((l16.float() - l32).norm() / l32.norm()) < 0.02
    assert ((spliced.float() - l16.float()).norm() / l16.float().norm()) < 0.02
    a32, a16 = attribute(m32, s32, ds, 'attrib', progress=False), attribute(m16, s16, ds, 'attrib', progress=False)
    top = lambda a, n: {(s, j) for s, j, _ in a.top(n)}
    assert len(top(a32, 10) & top(a16, 30)) >= 8, (a32.top(10), a16.top(30))
    feats = rank_features(a32).nodes[:10]
    sites = rank_features(a32).sites
    v32, v16 = evaluate_set(m32, s32, ds, feats, sites=sites), evaluate_set(m16, s16, ds, feats, sites=sites)
    assert abs(v32 - v16) < 0.05, (v32, v16)

def test_bf16_scores_rank_like_float32_in_every_dtype_mix():
    """Per-site IG scores (the method's default) with the model, the SAEs or both in bf16, against float32: Spearman over
    every feature taking part. Measured on the embedded default: 0.92 (both bf16), 0.93 (model), 0.96 (SAEs). The
    issue's target of 0.99 is below this ranking's own noise floor: 06 shows float32 SAEs whose weights are jittered
    by 0.1% (less than bf16's rounding) give 0.98, bf16-rounded weights computed in float32 0.96. This bound guards
    what is there (scores accumulate in float32)."""
    from mamba_sae.attribution import rank_correlation
    m32, tok = load_tiny(); m16, _ = load_tiny(dtype=torch.bfloat16)
    s32 = load_tiny_saes('output'); s16 = {s: sae.to(torch.bfloat16) for s, sae in load_tiny_saes('output').items()}
    ds = ioi_dataset(tok, 60, seed=0)
    a32 = attribute(m32, s32, ds, 'ig', 1, progress=False)
    part = {s: a32.counts[s] > 0 for s in a32.scores}
    flat = lambda a: torch.cat([a.scores[s].float()[part[s]] for s in part])
    for m, s in ((m16, s16), (m16, s32), (m32, s16)):
        a = attribute(m, s, ds, 'ig', 1, progress=False)
        assert all(v.dtype == torch.float32 for v in a.scores.values())
        rho = rank_correlation(flat(a), flat(a32))
        assert rho >= 0.9, rho
        assert len({x[:2] for x in a.top(20)} & {x[:2] for x in a32.top(20)}) >= 15
