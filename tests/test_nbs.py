"Run every notebook in nbs/ as a pytest case, as `nbdev-test` would (cells flagged with tst_flags are skipped)"
from pathlib import Path
import pytest
import nbdev.test as nbt
from nbdev.config import get_config

cfg = get_config()
NBS = sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(cfg.nbs_path).parts))

@pytest.mark.parametrize('nb', NBS, ids=lambda p: str(p.relative_to(cfg.nbs_path)))
def test_notebook(nb):
    ok, _ = nbt.test_nb(nb, skip_flags=cfg.tst_flags.split(), basepath=cfg.config_path)
    assert ok, f"{nb.name} failed; run `nbdev-test {nb}` for the traceback"
