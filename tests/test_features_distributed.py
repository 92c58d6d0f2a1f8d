"top_activations under torchrun (gloo, 2 processes, disjoint shards of the corpus) against one process"
import os, shutil, subprocess, sys, textwrap
from pathlib import Path
import torch
from safetensors.torch import load_file

DRIVER = textwrap.dedent('''
    import os, sys, torch, torch.distributed as dist
    from safetensors.torch import save_file
    from mamba_sae.tiny import load_tiny, tiny_corpus
    from mamba_sae.load import load_tiny_saes
    from mamba_sae.features import top_activations
    if 'RANK' in os.environ: dist.init_process_group('gloo')
    torch.manual_seed(0)
    model, tok = load_tiny()
    site = 'blocks.2.hook_out_proj'
    sae = load_tiny_saes('output')[site]
    corpus = tiny_corpus(tok, 36 * 64, seq_len=64, seed=3)   # 36 sequences: 18 per rank
    top = top_activations(model, sae, site, corpus, k=8, batch_size=6, progress=False)
    if not dist.is_initialized() or dist.get_rank() == 0:
        save_file({'values': top.values, 'seq': top.seq, 'pos': top.pos, 'context': top.context, 'context_acts': top.context_acts,
                   'n_active': top.n_active, 'hist': top.hist, 'n_tokens': torch.tensor(top.n_tokens)}, sys.argv[1])
    if dist.is_initialized(): dist.barrier(); dist.destroy_process_group()   # else gloo may abort the process at exit
''')
torchrun = shutil.which('torchrun') or str(Path(sys.executable).parent / 'torchrun')

def run(cmd, out):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([*cmd, str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return load_file(out)

def test_two_ranks_merge_to_the_single_process_result(tmp_path):
    drv = tmp_path / 'driver.py'; drv.write_text(DRIVER)
    one = run([sys.executable, str(drv)], tmp_path / 'one.safetensors')
    two = run([torchrun, '--standalone', '--nproc_per_node', '2', str(drv)], tmp_path / 'two.safetensors')
    assert int(two['n_tokens']) == int(one['n_tokens']) == 36 * 64
    torch.testing.assert_close(two['n_active'], one['n_active'])
    torch.testing.assert_close(two['hist'], one['hist'])
    torch.testing.assert_close(two['values'], one['values'], rtol=1e-5, atol=1e-6)
    # positions: identical wherever the value is positive and not tied with a neighbour (a tie may be listed in either order)
    v = one['values']
    pad = torch.full((len(v), 1), -1.)
    untied = (v > 0) & (v != torch.cat([v[:, 1:], pad], 1)) & (v != torch.cat([pad, v[:, :-1]], 1))
    assert untied.sum() > 1000
    for n in ('seq', 'pos', 'context'): torch.testing.assert_close(two[n][untied], one[n][untied])
    # both ranks contributed: the merged examples come from even and odd sequences
    s = two['seq'][two['seq'] >= 0]
    assert (s % 2 == 0).any() and (s % 2 == 1).any()
