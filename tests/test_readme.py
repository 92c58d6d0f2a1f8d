"""README.md is generated from nbs/index.ipynb; it must not drift, and its code must run as printed.

The second test executes every ```python block of README.md in order, in one fresh IPython shell
(the way a reader pastes them), with only what the README itself imports, and compares each block's
result with the output block the README prints under it."""
import re, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def test_readme_in_sync():
    r = subprocess.run([sys.executable, str(root / 'tools' / 'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def readme_blocks(text:str)->list[tuple[str, str | None]]:
    "(python code, the plain output block printed right after it or None) for each ```python block"
    parts = re.split(r'^```(\w*)\n(.*?)^```\n', text, flags=re.S | re.M)
    blocks, i = [], 1
    while i < len(parts):
        lang, body = parts[i], parts[i + 1]
        if lang == 'python':
            nxt = parts[i + 3 : i + 5] if i + 4 < len(parts) else None
            out = nxt[1] if nxt and nxt[0] == '' and parts[i + 2].strip() == '' else None
            blocks.append((body, out))
        i += 3
    return blocks

def test_readme_code_runs_as_printed():
    from execnb.shell import CaptureShell
    blocks = readme_blocks((root / 'README.md').read_text())
    assert blocks, "README.md has no python blocks"
    sh = CaptureShell()
    for code, expected in blocks:
        outs = sh.run(code)
        errs = [o for o in outs if o.get('output_type') == 'error']
        assert not errs, f"README block failed:\n{code}\n{errs[0]['ename']}: {errs[0]['evalue']}"
        if expected is not None:
            got = ''.join(''.join(o.get('text') or o.get('data', {}).get('text/plain', [])) for o in outs)
            assert got.rstrip() == expected.rstrip(), f"README block prints something else:\n{code}\n--- README\n{expected}\n--- now\n{got}"
