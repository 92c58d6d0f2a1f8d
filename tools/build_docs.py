"""Build the docs site into _docs/ from nbdev-proc-nbs output (_proc/), without Quarto.

Each notebook listed in nbs/sidebar.yml becomes one page: nbconvert's `basic` template renders the
cells (outputs, figures and HTML dashboards inline), nbdev's show_doc output becomes the API
sections, `#| hide` cells are dropped, math is converted to MathML (latex2mathml; browsers render
it natively, so the site needs no script and no network), links to notebooks point at their pages.
A sidebar in pipeline order and one stylesheet complete the site. Run `bash tools/build-docs`
(it runs nbdev-proc-nbs first); `nbdev-docs` keeps working wherever Quarto is installed.
"""
import html, os, re, shutil, sys
from pathlib import Path
import nbformat, yaml
from nbconvert import HTMLExporter

root = Path(__file__).resolve().parent.parent
MATH = re.compile(r'(?<!\\)\$\$(.+?)\$\$|(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\w$])', re.S)
FENCE = re.compile(r'(```.*?```|`[^`\n]*`)', re.S)

def to_mathml(tex:str, display:bool)->str:
    from latex2mathml.converter import convert
    try: return convert(tex.strip(), display='block' if display else 'inline')
    except Exception: return f'<code>{html.escape(tex)}</code>'  # leave what the converter cannot read as code

def convert_math(md:str)->str:
    "Replace $...$ and $$...$$ outside code with MathML"
    parts = FENCE.split(md)
    for i in range(0, len(parts), 2):
        parts[i] = MATH.sub(lambda m: to_mathml(m.group(1) if m.group(1) is not None else m.group(2), m.group(1) is not None), parts[i])
    return ''.join(parts)

def sidebar(nbs:Path)->list:
    "[(section or None, notebook path relative to nbs)] in the order of sidebar.yml"
    items = yaml.safe_load((nbs / 'sidebar.yml').read_text())['website']['sidebar']['contents']
    out = []
    def walk(lst, section):
        for it in lst:
            if isinstance(it, str): out.append((section, it))
            elif isinstance(it, dict): walk(it.get('contents', []), it.get('section'))
    walk(items, None)
    return out

def front_matter(nb)->dict:
    "Front matter of the raw cell nbdev-proc-nbs puts first (title, description, output-file), removed from the notebook"
    for i, c in enumerate(nb.cells):
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            nb.cells.pop(i)
            return yaml.safe_load(c.source.strip().strip('-')) or {}
    return {}

def directives(src:str)->dict:
    return {m.group(1): (m.group(2) or '').strip() for m in re.finditer(r'^#\|\s*([\w-]+):?\s*(.*)$', src, re.M)}

def prepare(nb, page_of:dict, here:Path):
    "Drop hidden cells, turn show_doc output into markdown, strip directives, convert math and notebook links"
    cells = []
    for c in nb.cells:
        c.metadata.pop('execution', None)
        if c.cell_type == 'code':
            d = directives(c.source)
            if 'hide' in d or 'default_exp' in d: continue
            if d.get('output') == 'asis' or d.get('echo') == 'false':
                md = ''.join(o.get('data', {}).get('text/markdown', '') for o in c.get('outputs', []))
                if md: cells.append(nbformat.v4.new_markdown_cell(f'<div class="api">\n\n{convert_math(md)}\n\n</div>'))
                continue
            c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|')).strip('\n')
            if not c.source and not c.get('outputs'): continue
            cells.append(c)
        elif c.cell_type == 'markdown':
            src = convert_math(c.source)
            src = re.sub(r'\]\(([\w./-]+)\.ipynb(#[\w-]+)?\)',
                         lambda m: f"]({os.path.relpath(page_of.get(m.group(1) + '.ipynb', m.group(1) + '.html'), here)}{m.group(2) or ''})", src)
            c.source = src
            cells.append(c)
    nb.cells = cells
    return nb

CSS = """
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;line-height:1.5}
nav{position:fixed;top:0;left:0;bottom:0;width:230px;overflow-y:auto;background:#f7f7f9;border-right:1px solid #e3e3e8;padding:16px 12px;box-sizing:border-box}
nav a{display:block;color:#333;text-decoration:none;padding:3px 6px;border-radius:4px;font-size:14px}
nav a:hover{background:#e8e8ef} nav a.current{background:#dde6ff;font-weight:600}
nav .section{margin:14px 0 4px;font-size:12px;text-transform:uppercase;color:#777;letter-spacing:.05em}
nav .brand{font-weight:700;font-size:17px;margin-bottom:10px}
a.anchor-link{color:#bbb;text-decoration:none;font-size:.75em;margin-left:6px}
main{margin-left:250px;max-width:1000px;padding:8px 28px 60px}
h1{margin-bottom:4px} .description{color:#555;font-size:17px;margin-top:0}
pre,code{font-family:'SFMono-Regular',Menlo,Consolas,monospace;font-size:13px}
.input_area pre,.output_area pre{margin:0;padding:8px 10px;overflow-x:auto}
.input_area{background:#f6f8fa;border:1px solid #e1e4e8;border-radius:5px;margin:10px 0 2px}
.output_area pre{background:#fff;border-left:3px solid #e1e4e8}
.output_area img,main img{max-width:100%;height:auto}
.prompt{display:none}
.api{border-left:4px solid #8fa7ff;background:#fafbff;padding:2px 14px;margin:18px 0}
.api hr{display:none} .api h3,.api h4{margin:8px 0 4px}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:3px 8px}
.output_stderr{display:none}
"""

def page(title:str, description:str, body:str, nav:str, css_href:str)->str:
    desc = f'<p class="description">{html.escape(description)}</p>' if description else ''
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)} – mamba-sae</title><link rel="icon" href="data:,"><link rel="stylesheet" href="{css_href}"></head>'
            f'<body>{nav}<main><h1>{html.escape(title)}</h1>{desc}{body}</main></body></html>')

def build(proc:Path=root / '_proc', out:Path=root / '_docs'):
    from pygments.formatters import HtmlFormatter
    if not proc.exists(): sys.exit(f"{proc} is missing: run nbdev-proc-nbs first (bash tools/build-docs does)")
    entries = sidebar(root / 'nbs')
    nbs, page_of = {}, {}
    for section, path in entries:
        nb = nbformat.read(proc / path, as_version=4)
        fm = front_matter(nb)
        target = str(Path(path).parent / fm.get('output-file', Path(path).stem + '.html')) if Path(path).parent != Path('.') else fm.get('output-file', Path(path).stem + '.html')
        if path == 'index.ipynb': target = 'index.html'
        nbs[path], page_of[path] = (section, nb, fm), target
    tmp = out.with_name(out.name + '.tmp')
    shutil.rmtree(tmp, ignore_errors=True); tmp.mkdir(parents=True)
    (tmp / 'styles.css').write_text(CSS + HtmlFormatter(style='default').get_style_defs('.highlight'))
    if (root / 'nbs' / 'images').exists(): shutil.copytree(root / 'nbs' / 'images', tmp / 'images')
    exporter = HTMLExporter(template_name='basic')
    for path, (section, nb, fm) in nbs.items():
        target = page_of[path]
        here = Path(target).parent
        links, last = [], None
        for sec, p in entries:
            if sec != last and sec: links.append(f'<div class="section">{html.escape(sec)}</div>')
            last = sec
            t = nbs[p][2].get('title', Path(p).stem)
            cur = ' class="current"' if p == path else ''
            links.append(f'<a href="{os.path.relpath(page_of[p], here)}"{cur}>{html.escape(t)}</a>')
        nav = f'<nav><div class="brand"><a href="{os.path.relpath("index.html", here)}">mamba-sae</a></div>{"".join(links)}</nav>'
        body, _ = exporter.from_notebook_node(prepare(nb, page_of, here))
        title = fm.get('title', Path(path).stem)
        dest = tmp / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(page(title, fm.get('description', ''), body, nav, os.path.relpath('styles.css', here)))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    print(f"built {len(nbs)} pages into {out}")
    return out

if __name__ == '__main__': build()
