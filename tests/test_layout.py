"""The package's rooms (CONTRIBUTING.md): each module imports only earlier stages, and only their public names.

The order of the stages is the order of the notebooks the modules are exported from (`00_hooks` ... `10_cli`);
a hand-written module (`__init__`, `__main__`) may import any stage. Imports inside functions count too: a
lazy import is still a dependency."""
import ast, re
from pathlib import Path

pkg = Path(__file__).resolve().parent.parent / 'mamba_sae'

def stage_order()->dict:
    "module name -> position of the notebook it is exported from (its default_exp notebook)"
    order = {}
    for p in pkg.glob('*.py'):
        m = re.search(r'File to edit: \.\./nbs/([\w]+)\.ipynb', p.read_text())
        if m: order[p.stem] = m.group(1)
    return {name: i for i, name in enumerate(sorted(order, key=order.get))}

def internal_imports(path:Path)->list[tuple[str, str, int]]:
    "(imported module, imported name or '', line) of every import of a mamba_sae module in `path`"
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 1: target = mod
            elif mod.startswith('mamba_sae.'): target = mod.removeprefix('mamba_sae.')
            else: continue
            out += [(target.split('.')[0], a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name.removeprefix('mamba_sae.').split('.')[0], '', node.lineno) for a in node.names if a.name.startswith('mamba_sae.')]
    return out

def test_stages_import_only_earlier_stages_and_public_names():
    order, bad = stage_order(), []
    assert {'hooks', 'sites', 'model', 'sae', 'search', 'cli'} <= set(order), order
    for p in pkg.glob('*.py'):
        for target, name, line in internal_imports(p):
            if name.startswith('_'): bad.append(f"{p.name}:{line} imports the private {target}.{name}")
            if p.stem in order and target in order and order[target] >= order[p.stem]:
                bad.append(f"{p.name}:{line} imports {target}, a later stage (or itself)")
    assert not bad, '\n'.join(bad)

def test_the_order_is_the_method():
    order = stage_order()
    for a, b in [('hooks', 'sites'), ('sites', 'model'), ('sae', 'load'), ('train', 'evals'), ('features', 'dashboards'),
                 ('search', 'demo'), ('demo', 'cli')]:
        assert order[a] < order[b], (a, b)

def test_functions_are_short_and_lines_fit():
    "No function over 60 lines; at most 2% of the package's lines over 120 characters (fastcore: 1.3%)"
    long_fns, lines, over = [], 0, 0
    for p in pkg.glob('*.py'):
        if p.name == '_modidx.py': continue
        src = p.read_text()
        lines += len(src.splitlines()); over += sum(len(l) > 120 for l in src.splitlines())
        for n in ast.walk(ast.parse(src)):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 60:
                long_fns.append(f"{p.name}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)")
    assert not long_fns, long_fns
    assert over <= 0.02 * lines, f"{over} of {lines} lines are over 120 characters"
