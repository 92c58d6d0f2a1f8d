"""Bad input and faults end in one clear error, or are handled correctly; nothing of the user's is lost (issue 18).

Each API case asserts the error type and that the message names the problem; each CLI case runs the real executable
and asserts the exit status, a single line on stderr and no traceback. The cases follow the issue's list (data loss,
late failures, unclear errors); more are added as they are fixed."""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest, torch

@pytest.fixture(scope='module')
def tiny():
    from mamba_sae.tiny import load_tiny
    return load_tiny()

def test_ids_as_list_or_numpy_give_the_tensor_result(tiny):
    model, tok = tiny
    ids = tok.encode(' The cat sat on the mat', add_special_tokens=False)
    with torch.no_grad():
        want = model(torch.tensor([ids]))
        torch.testing.assert_close(model([ids]), want)
        torch.testing.assert_close(model(np.array([ids])), want)

def api_cases(model, tok, tmp:Path):
    "(name, callable, error type, text the message must hold)"
    from mamba_sae.data import PatchingDataset, logit_diff, text_corpus
    from mamba_sae.load import load_tiny_saes
    from mamba_sae.files import atomic_dir
    sae = load_tiny_saes('output')['blocks.1.hook_out_proj']
    ids = torch.tensor([tok.encode(' one two three', add_special_tokens=False)])
    wrong_shape = lambda x, hook: x[:, :1]
    def with_hook(fn):
        with model.hooks([('blocks.1.hook_out_proj', fn)]): model(ids)
    big = torch.tensor([10**6])
    ds = PatchingDataset(ids, ids, big, torch.tensor([0]), ['a'], ['b'])
    nan = torch.randn(3, sae.d_in); nan[1, 2] = float('nan')
    (tmp / 'empty.txt').write_text('')
    (tmp / 'binary.txt').write_bytes(bytes(range(256)) * 4)
    (tmp / 'bad.jsonl').write_text('{"text": "fine"}\n{not json}\n')
    return [
        ('no positions', lambda: model(torch.zeros(1, 0, dtype=torch.long)), ValueError, 'no positions'),
        ('ids of text', lambda: model([['a', 'b']]), ValueError, 'token ids'),
        ('hook returns the wrong shape', lambda: with_hook(wrong_shape), ValueError, 'blocks.1.hook_out_proj returned'),
        ('hook returns a number', lambda: with_hook(lambda x, hook: 3), ValueError, 'returned int'),
        ('answer outside the vocabulary', lambda: logit_diff(model(ids), ds), ValueError, 'outside the vocabulary'),
        ('NaN into an SAE', lambda: sae.encode(nan), ValueError, 'NaN or inf'),
        ('empty corpus', lambda: list(text_corpus(str(tmp / 'empty.txt'), tok, 16)), ValueError, 'gave no chunk of 16 tokens'),
        ('binary corpus', lambda: list(text_corpus(str(tmp / 'binary.txt'), tok, 16)), ValueError, 'binary.txt is not UTF-8'),
        ('bad jsonl line', lambda: list(text_corpus(str(tmp / 'bad.jsonl'), tok, 4)), ValueError, 'bad.jsonl, line 2'),
        ('seq_len 0', lambda: list(text_corpus(str(tmp / 'bad.jsonl'), tok, 0)), ValueError, 'seq_len must be a positive'),
        ('a directory over a file', lambda: atomic_dir(tmp / 'empty.txt', replace=True).__enter__(), FileExistsError, 'is a file'),
    ]

def test_api_cases(tiny, tmp_path):
    model, tok = tiny
    for name, fn, err, text in api_cases(model, tok, tmp_path):
        with pytest.raises(err) as e: fn()
        assert text in str(e.value), (name, str(e.value))

def test_saving_never_loses_a_users_file(tiny, tmp_path):
    model, _ = tiny
    d = tmp_path / 'ckpt'; model.save_pretrained(d)
    (d / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='notes.txt'): model.save_pretrained(d)
    assert (d / 'notes.txt').read_text() == 'mine' and (d / 'model.safetensors').exists()
    f = tmp_path / 'a_file'; f.write_text('keep')
    with pytest.raises(FileExistsError, match='is a file'): model.save_pretrained(f)
    assert f.read_text() == 'keep' and sorted(p.name for p in tmp_path.iterdir()) == ['a_file', 'ckpt']

def run_cli(*argv, env=None):
    r = subprocess.run([sys.executable, '-m', 'mamba_sae', *argv], capture_output=True, text=True, timeout=300,
                       env={**os.environ, **(env or {})})
    return r.returncode, r.stderr.strip()

CLI_CASES = [  # argv (OUT is replaced by a scratch folder), exit status, text the one line must hold
    (['train-saes', '--out', 'OUT/s', '--batch-size', '0'], 2, '--batch-size: must be a positive integer'),
    (['train-saes', '--out', 'OUT/s', '--seq-len', '0'], 2, '--seq-len: must be a positive integer'),
    (['train-saes', '--out', 'OUT/s', '--layers', 'a'], 2, '--layers: must be comma-separated layer numbers'),
    (['circuit', '--out', 'OUT/c', '--n', '0'], 2, '--n: must be a positive integer'),
    (['info', '--model', 'OUT/nowhere'], 2, 'nowhere is not a checkpoint directory'),
    (['circuit', '--out', 'OUT/a_file'], 2, 'is a file'),
    (['train-tiny', '--out', 'OUT/mine'], 2, 'notes.txt'),
    (['train-saes', '--out', 'OUT/a_file', '--tokens', '2048'], 2, 'is a file'),
    (['demo', '--out', 'OUT/d', '--target', '2'], 2, 'target must lie in (0, 1]'),
    (['train-saes', '--out', 'OUT/s', '--resume', 'maybe'], 2, '--resume: must be auto, yes or no'),
]

@pytest.mark.parametrize('argv,code,text', CLI_CASES, ids=[' '.join(c[0][:1] + c[0][3:]) for c in CLI_CASES])
def test_cli_cases(tmp_path, argv, code, text):
    (tmp_path / 'a_file').write_text('keep me')
    (tmp_path / 'mine').mkdir(); (tmp_path / 'mine' / 'notes.txt').write_text('my notes')
    got, err = run_cli(*[a.replace('OUT', str(tmp_path)) for a in argv])
    assert got == code, err
    assert len(err.splitlines()) == 1 and 'Traceback' not in err, err
    assert text in err, err
    assert (tmp_path / 'a_file').read_text() == 'keep me' and (tmp_path / 'mine' / 'notes.txt').read_text() == 'my notes'
    assert not (tmp_path / 'd').exists() and not (tmp_path / 's').exists()   # refused before any output was written
