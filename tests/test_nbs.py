"""Run every notebook in nbs/ as a pytest case, as `nbdev-test` would (cells flagged with tst_flags are skipped).

Cells that check numbers of the shipped weights (the embedded default's accuracy, its SAEs' evals, the circuits found
on them) carry the flag `#| shipped`. They run by default; a contributor who retrains the embedded default or its SAEs
runs `MAMBA_SAE_SKIP_SHIPPED=1 pytest tests/test_nbs.py` to check everything else first, then looks at those cells."""
import os
from pathlib import Path
import pytest
import nbdev.test as nbt
from nbdev.config import get_config

cfg = get_config()
NBS = sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(cfg.nbs_path).parts))
SKIP = cfg.tst_flags.split() + (['shipped'] if os.environ.get('MAMBA_SAE_SKIP_SHIPPED') == '1' else [])

@pytest.mark.parametrize('nb', NBS, ids=lambda p: str(p.relative_to(cfg.nbs_path)))
def test_notebook(nb):
    ok, _ = nbt.test_nb(nb, skip_flags=SKIP, basepath=cfg.config_path)
    assert ok, f"{nb.name} failed; run `nbdev-test {nb}` for the traceback"
