"README.md is generated from nbs/index.ipynb; it must not drift"
import subprocess, sys
from pathlib import Path

def test_readme_in_sync():
    root = Path(__file__).resolve().parent.parent
    r = subprocess.run([sys.executable, str(root / 'tools' / 'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
