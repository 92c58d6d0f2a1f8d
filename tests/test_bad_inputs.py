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
    (tmp / 'list.jsonl').write_text('{"text": "fine"}\n{"text": ["a", "b"]}\n')
    (tmp / 'surrogate.jsonl').write_text('{"text": "\\ud800 x"}\n')
    from mamba_sae.train import TrainConfig
    from mamba_sae.files import check_output_dir
    from mamba_sae.search import run_method
    from mamba_sae.data import ioi_dataset, copy_dataset
    from mamba_sae.attribution import attribute
    from mamba_sae.model import HookedMamba, MambaConfig
    from mamba_sae.sae import TopKSAE
    bad_sae = TopKSAE(8, 16, 2); bad_sae.W_enc.data[:, 3] = float('nan'); nan_sae = bad_sae.save(tmp / 'nan_sae')   # one latent: d_in=8 values
    inf_model = tmp / 'inf_model'; model.save_pretrained(inf_model)
    from safetensors.torch import load_file, save_file
    sd = load_file(inf_model / 'model.safetensors'); k0 = next(k for k in sd if sd[k].is_floating_point())
    sd[k0].view(-1)[0] = float('inf'); save_file(sd, inf_model / 'model.safetensors')
    (tmp / 'rows.json').write_text('[{"text": "a"}]')
    broken_weights, broken_config = tmp / 'w', tmp / 'c'
    for d in (broken_weights, broken_config): model.save_pretrained(d)
    (broken_weights / 'model.safetensors').write_bytes((broken_weights / 'model.safetensors').read_bytes()[:100])
    (broken_config / 'config.json').write_text('{"d_model": ')
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
        ('jsonl text that is a list', lambda: list(text_corpus(str(tmp / 'list.jsonl'), tok, 4)), ValueError,
         "list.jsonl, line 2: 'text' holds list, not a string"),
        ('jsonl text with a lone surrogate', lambda: list(text_corpus(str(tmp / 'surrogate.jsonl'), tok, 4)), ValueError,
         'surrogate.jsonl, line 1: the text is not valid Unicode'),
        ('seq_len 0', lambda: list(text_corpus(str(tmp / 'bad.jsonl'), tok, 0)), ValueError, 'seq_len must be a positive'),
        ('a directory over a file', lambda: atomic_dir(tmp / 'empty.txt', replace=True).__enter__(), FileExistsError, 'is a file'),
        ('a missing local corpus', lambda: list(text_corpus(str(tmp / 'nowhere.txt'), tok, 16)), FileNotFoundError,
         'nowhere.txt: no such file'),
        ('batch_size 0', lambda: TrainConfig(batch_size=0), ValueError, 'batch_size must be a positive integer'),
        ('negative learning rate', lambda: TrainConfig(lr=-1.), ValueError, 'lr must be positive'),
        ('an output inside a file', lambda: check_output_dir(tmp / 'empty.txt' / 'out'), FileExistsError, 'empty.txt is a file, so'),
        ('an output without the space', lambda: check_output_dir(tmp / 'out', need=10**18), OSError, 'GB free'),
        ('excluding a layer the model lacks', lambda: run_method(model, {s: sae for s in ['blocks.1.hook_out_proj']}, ds,
         exclude_layers=(7,), progress=False), ValueError, 'not layers of this model (0 to 3)'),
        ('no prompt pairs', lambda: ioi_dataset(tok, 0), ValueError, 'n must be a positive integer, got 0'),
        ('a fractional count', lambda: copy_dataset(tok, 2.5), ValueError, 'n must be a positive integer, got 2.5'),
        ('batch_size 0 in attribution', lambda: attribute(model, {'blocks.1.hook_out_proj': sae}, ds, batch_size=0,
         progress=False), ValueError, 'batch_size must be a positive integer'),
        ('corrupt model.safetensors', lambda: HookedMamba.from_pretrained(broken_weights), ValueError, 'model.safetensors'),
        ('corrupt config.json', lambda: HookedMamba.from_pretrained(broken_config), ValueError, 'config.json'),
        ('a dataset given as text', lambda: run_method(model, {'blocks.1.hook_out_proj': sae}, 'ioi', progress=False),
         TypeError, 'ds must be a PatchingDataset'),
        ('SAEs given as a list', lambda: attribute(model, [sae], ds, progress=False), TypeError, 'saes must be a dict'),
        ('a path where an SAE belongs', lambda: attribute(model, {'blocks.1.hook_out_proj': 'saes/b1'}, ds,
         progress=False), TypeError, 'is a str, not an SAE'),
        ('text into an SAE', lambda: sae.encode('the cat'), TypeError, 'must be a floating-point tensor'),
        ('a NaN RMSNorm epsilon', lambda: MambaConfig(norm_eps=float('nan')), ValueError, 'norm_eps must be a number'),
        ('a layer to exclude given as a number', lambda: run_method(model, {'blocks.1.hook_out_proj': sae}, ds,
         exclude_layers=9, progress=False), ValueError, 'exclude_layers names [9]'),
        ('a negative greedy pool', lambda: run_method(model, {'blocks.1.hook_out_proj': sae}, ds, greedy=-5,
         progress=False), ValueError, 'greedy must be an integer >= 0'),
        ('an SAE checkpoint with NaN weights', lambda: TopKSAE.load(nan_sae), ValueError, 'W_enc holds 8 NaN or inf values'),
        ('a model checkpoint with an inf weight', lambda: HookedMamba.from_pretrained(inf_model), ValueError,
         'holds 1 NaN or inf values'),
        ('a .json corpus', lambda: list(text_corpus(str(tmp / 'rows.json'), tok, 4)), ValueError, 'is a .json file'),
        ('a negative AuxK size', lambda: TrainConfig(k_aux=-1), ValueError, 'k_aux must be an integer >= 0'),
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
    (['demo', '--out', 'OUT/d', '--n', '20', '--input-saes', 'output'], 2, "input SAEs must be on hook_resid_pre sites"),
    (['info', '--model', 'OUT/nowhere'], 2, 'nowhere is not a checkpoint directory'),
    (['circuit', '--out', 'OUT/a_file'], 2, 'is a file'),
    (['train-tiny', '--out', 'OUT/mine'], 2, 'notes.txt'),
    (['train-saes', '--out', 'OUT/a_file', '--tokens', '2048'], 2, 'is a file'),
    (['demo', '--out', 'OUT/d', '--target', '2'], 2, 'target must lie in (0, 1]'),
    (['train-saes', '--out', 'OUT/s', '--resume', 'maybe'], 2, '--resume: must be auto, yes or no'),
    (['train-saes', '--out', 'OUT/s', '--corpus', 'OUT/nowhere.txt'], 2, 'nowhere.txt: no such file or directory'),
    (['train-saes', '--out', 'OUT/a_file/s'], 2, 'a_file is a file, so'),
    (['train-saes', '--out', '/proc/mamba-sae-out'], 2, 'cannot write to /proc'),   # even root cannot write there
    (['train-tiny', '--out', '/proc/mamba-sae-out'], 2, 'cannot write to /proc'),
    (['train-saes', '--out', 'OUT/s', '--lr', '-1'], 2, 'lr must be positive'),
    (['train-saes', '--out', 'OUT/s', '--sae-dtype', 'bf16'], 2, "sae_dtype must be 'float32', 'bfloat16' or 'float16'"),
    (['train-saes', '--out', 'OUT/s', '--activation-cache', 'OUT/a_file'], 2, 'a_file is a file'),
    (['train-saes', '--out', 'OUT/s', '--sites', 'blocks.1.hook_bogus'], 2, "unknown hook name 'blocks.1.hook_bogus'"),
    (['train-saes', '--out', 'OUT/s', '--device', 'bogus'], 2, "unknown device 'bogus'"),
    (['circuit', '--out', 'OUT/c', '--exclude-layers', '9'], 2, 'exclude_layers names [9]'),
    (['circuit', '--out', 'OUT/c', '--task', 'bogus'], 2, "task must be one of"),
    (['features', '--out', 'OUT/f', '--circuit', 'OUT/a_file'], 2, 'a_file is not a circuit.json'),
    (['features', '--out', 'OUT/f', '--circuit', 'OUT/nowhere.json'], 2, 'nowhere.json does not exist'),
    (['features', '--out', 'OUT/f', '--features', 'blocks.1.hook_out_proj:99999'], 2, 'out of range'),
    (['demo', '--out', 'OUT/d', '--corpus', 'OUT/nowhere.txt'], 2, 'nowhere.txt: no such file or directory'),
    (['demo', '--out', 'OUT/d', '--input-saes', 'OUT/nowhere'], 2, 'nowhere is not a directory of SAEs'),
    (['circuit', '--out', 'OUT/mine2'], 2, 'already holds circuit.json, which this project did not write'),
    (['features', '--out', 'OUT/mine2'], 2, 'already holds copy_report.json'),
    (['demo', '--out', 'OUT/mine2'], 2, 'already holds report.html'),
    (['train-saes', '--out', 'OUT/mine2'], 2, 'already holds metrics.json'),
]

EXECUTABLE_CASES = [  # through the real executable: the parser, an early check, and a failure (exit 1)
    CLI_CASES[0], CLI_CASES[5],
    (['info', '--model', 'state-spaces/mamba-130m'], 1, "could not download 'state-spaces/mamba-130m'"),   # offline
]

def run_main(argv, capsys):
    "`mamba-sae ARGV` in this process (torch is loaded once): (exit status, stderr)"
    from mamba_sae.cli import main
    with pytest.raises(SystemExit) as e: main(argv)
    return e.value.code, capsys.readouterr().err.strip()

@pytest.mark.parametrize('argv,code,text', CLI_CASES, ids=[' '.join(c[0][:1] + c[0][3:]) for c in CLI_CASES])
def test_cli_cases(tmp_path, argv, code, text, capsys):
    check_cli_case(tmp_path, argv, code, text, lambda a: run_main(a, capsys))

@pytest.mark.parametrize('argv,code,text', EXECUTABLE_CASES, ids=[' '.join(c[0][:1] + c[0][3:]) for c in EXECUTABLE_CASES])
def test_executable_cases(tmp_path, argv, code, text):
    check_cli_case(tmp_path, argv, code, text, lambda a: run_cli(*a, env={'HF_HUB_OFFLINE': '1'}))

def check_cli_case(tmp_path, argv, code, text, run):
    (tmp_path / 'a_file').write_text('keep me')
    (tmp_path / 'mine').mkdir(); (tmp_path / 'mine' / 'notes.txt').write_text('my notes')
    mine2 = tmp_path / 'mine2'; mine2.mkdir()   # the user's own files, under names the commands write
    for n in ('circuit.json', 'copy_report.json', 'report.html', 'metrics.json'): (mine2 / n).write_text('the user\'s')
    got, err = run([a.replace('OUT', str(tmp_path)) for a in argv])
    assert got == code, err
    assert len(err.splitlines()) == 1 and 'Traceback' not in err, err
    assert text in err, err
    assert (tmp_path / 'a_file').read_text() == 'keep me' and (tmp_path / 'mine' / 'notes.txt').read_text() == 'my notes'
    assert not any((tmp_path / n).exists() for n in 'scdf')   # refused before any output was written
    assert sorted(p.name for p in mine2.iterdir()) == ['circuit.json', 'copy_report.json', 'metrics.json', 'report.html']
    assert all(p.read_text() == "the user's" for p in mine2.iterdir())

@pytest.mark.parametrize('corpus', ['folder', 'big.txt,big.jsonl'])   # a folder of .txt; a .txt and a .jsonl
def test_local_corpora_train(tmp_path, corpus):
    "train-saes reads a local .txt, a .jsonl, a folder of them, or several paths (the issue: it never could)"
    import random
    rng, words = random.Random(0), 'the cat sat on a mat and then Mary gave John a book while the dog ran home'.split()
    text = lambda n: ' '.join(rng.choice(words) for _ in range(n))
    (tmp_path / 'big.txt').write_text(text(20000))
    (tmp_path / 'big.jsonl').write_text(''.join(json.dumps({'text': text(200)}) + '\n' for _ in range(100)))
    (tmp_path / 'folder').mkdir(); (tmp_path / 'folder' / 'a.txt').write_text(text(20000))
    paths = ','.join(str(tmp_path / p) for p in corpus.split(','))
    got, err = run_cli('train-saes', '--out', str(tmp_path / 'out'), '--corpus', paths, '--layers', '1', '--tokens', '2048',
                       '--batch-size', '512', '--seq-len', '64', '--eval-tokens', '512', '--no-progress')
    assert got == 0, err
    assert (tmp_path / 'out' / 'blocks.1.hook_out_proj' / 'sae_weights.safetensors').exists()
    assert json.loads((tmp_path / 'out' / 'evals.json').read_text())['blocks.1.hook_out_proj']['fvu'] < 1

def test_an_interrupted_demo_marks_its_folder(tmp_path, monkeypatch):
    "A demo that fails late (here: in the ablation table, after circuit.json and the figures) leaves INCOMPLETE, and no older report beside the new files"
    import mamba_sae.demo as demo
    from mamba_sae.files import record_files
    out = tmp_path / 'demo'; record_files(out, ['report.html']); (out / 'report.html').write_text('an older run')
    def boom(*a, **k): raise RuntimeError('simulated failure in the ablation table')
    monkeypatch.setattr(demo, '_ablation_section', boom)
    with pytest.raises(RuntimeError, match='simulated'): demo.run_demo(out, n=20, progress=False)
    assert (out / 'circuit.json').exists() and not (out / 'report.html').exists()   # the older run's report went first
    assert 'has not finished' in (out / 'INCOMPLETE').read_text()

def test_training_never_replaces_a_finished_run_and_resumes_only_its_own_settings(tiny, tmp_path):
    "A finished run's SAEs are not overwritten; --resume refuses other settings, and skips folders that are not checkpoints"
    from mamba_sae.train import TrainConfig, train_saes, latest_checkpoint
    from mamba_sae.tiny import tiny_corpus
    model, tok = tiny
    corpus, site = tiny_corpus(tok, 16 * 64, seq_len=64, seed=1), ['blocks.1.hook_out_proj']
    cfg = TrainConfig(tokens=4 * 256, batch_size=256, buffer_seqs=8, checkpoint_every=2)
    out = tmp_path / 'run'; train_saes(model, site, corpus, cfg, out=out, progress=False)
    before = (out / site[0] / 'sae_weights.safetensors').read_bytes()
    with pytest.raises(FileExistsError, match='holds a finished run'): train_saes(model, site, corpus, cfg, out=out, progress=False)
    for resume in (True, 'auto'):   # its last checkpoint is kept, but a finished run is not trained again (on any corpus)
        with pytest.raises(FileExistsError, match='holds a finished run'):
            train_saes(model, site, corpus.flip(0), cfg, out=out, resume=resume, progress=False)
    assert (out / site[0] / 'sae_weights.safetensors').read_bytes() == before
    cut = tmp_path / 'cut'
    with pytest.raises(KeyboardInterrupt): train_saes(model, site, corpus, cfg, out=cut, progress=False, _stop_at=3)
    (cut / 'checkpoints' / 'step_zzz').mkdir(); (cut / 'checkpoints' / 'step_zzz' / 'x.txt').write_text('mine')
    assert latest_checkpoint(cut).name == 'step_00000002'   # the user's folder is not a checkpoint
    with pytest.raises(ValueError, match=r'trained with k=16 \(now 4\)'):
        train_saes(model, site, corpus, TrainConfig(**{**cfg.__dict__, 'k': 4}), out=cut, resume=True, progress=False)
    train_saes(model, site, corpus, cfg, out=cut, resume=True, progress=False)
    assert (cut / 'checkpoints' / 'step_zzz' / 'x.txt').read_text() == 'mine'

def test_an_interrupted_circuit_marks_its_folder(tmp_path, monkeypatch, capsys):
    "circuit writes circuit.json and four figures; failing between them leaves INCOMPLETE, a finished run none"
    from mamba_sae.search import CircuitRun
    saved = CircuitRun.save
    def half(self, out, *a, **k):
        (Path(out) / 'circuit.json').write_text('{}'); raise RuntimeError('simulated failure between the files')
    monkeypatch.setattr(CircuitRun, 'save', half)
    argv = ['circuit', '--out', str(tmp_path / 'c'), '--n', '20', '--check', '0', '--no-progress']
    assert run_main(argv, capsys)[0] == 1
    assert 'has not finished' in (tmp_path / 'c' / 'INCOMPLETE').read_text()
    monkeypatch.setattr(CircuitRun, 'save', saved)
    from mamba_sae.cli import cli
    cli(argv)   # the rerun replaces its own leftovers and ends complete
    assert not (tmp_path / 'c' / 'INCOMPLETE').exists() and (tmp_path / 'c' / 'faithfulness.png').exists()

def test_saes_of_another_model_are_named_in_one_warning_line(tmp_path, capsys):
    "SAEs with the right widths but trained on another model run; the CLI says so in one line, not a traceback"
    from mamba_sae.load import load_tiny_saes
    from mamba_sae.cli import main
    for s, sae in load_tiny_saes('output').items():
        sae.model_name = 'state-spaces/mamba-130m'; sae.save(tmp_path / 'other' / s)
    import warnings
    with warnings.catch_warnings():   # as outside pytest: other libraries' deprecation notices are not shown
        warnings.simplefilter('ignore', DeprecationWarning)
        main(['circuit', '--saes', str(tmp_path / 'other'), '--out', str(tmp_path / 'c'), '--n', '20', '--check', '0',
              '--no-progress'])
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and err[0].startswith('mamba-sae: warning: the SAEs in'), err
    assert "trained on 'state-spaces/mamba-130m', not 'tiny'" in err[0], err

def test_a_users_file_inside_an_output_folder_of_ours_is_never_lost(tmp_path):
    "A user's notes inside dashboards/ stop train-tiny replacing the folder; a user's cfg.json stops an SAE save"
    from mamba_sae.files import record_files, atomic_write
    from mamba_sae.tiny import train_tiny
    from mamba_sae.sae import TopKSAE
    out = tmp_path / 'f'; record_files(out, ['dashboards'])   # as features writes it
    atomic_write(out / 'dashboards' / 'blocks.0.hook_out_proj' / 'feature_1.html', lambda p: Path(p).write_text('ours'))
    note = out / 'dashboards' / 'blocks.0.hook_out_proj' / 'my_notes.txt'; note.write_text('mine')
    with pytest.raises(FileExistsError, match='my_notes.txt'):
        train_tiny(out, steps=1, induction_warmup=0, d_model=16, n_layer=1, d_state=2)
    assert note.read_text() == 'mine'
    d = tmp_path / 'sae'; d.mkdir(); (d / 'cfg.json').write_text("the user's config")
    with pytest.raises(FileExistsError, match='already holds cfg.json, which this project did not write'):
        TopKSAE(8, 16, 2).save(d)
    assert (d / 'cfg.json').read_text() == "the user's config"
