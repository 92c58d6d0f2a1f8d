"""Write README.md from nbs/index.ipynb without Quarto (nbdev-readme needs it).

Markdown cells are copied, code cells become ```python blocks followed by their text output;
cells marked `#| hide` are left out. `python tools/make_readme.py --check` exits 1 if README.md
is out of date.
"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def render(nb_path=root / 'nbs' / 'index.ipynb') -> str:
    nb = json.loads(nb_path.read_text())
    out = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            if src.startswith('---'): continue  # front matter
            out.append(src.replace('](images/', '](nbs/images/'))  # README sits at the root, the images in nbs/
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            if any(l.strip() in ('#| hide', '#|hide') for l in lines): continue
            code = '\n'.join(l for l in lines if not l.startswith('#|'))
            out.append(f"```python\n{code}\n```")
            for o in c.get('outputs', []):
                text = o.get('text') or o.get('data', {}).get('text/plain')
                if text: out.append("```\n" + ''.join(text).rstrip() + "\n```")
    return "<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n" + '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    text, readme = render(), root / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run python tools/make_readme.py")
    else: readme.write_text(text)
