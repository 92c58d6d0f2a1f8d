"""The docs site: build it with tools/build-docs, open every page in headless Chromium, and check that it
loads without console errors, that module pages have their API sections and figure pages their figures,
and that every internal link resolves. Screenshots go to _docs/_screenshots/.

Needs Debian's chromium and playwright (the CI installs both; elsewhere the test is skipped unless
MAMBA_SAE_REQUIRE_BROWSER=1, which turns a missing browser into a failure)."""
import functools, http.server, os, shutil, subprocess, sys, threading
from pathlib import Path
from urllib.parse import urljoin, urlparse
import pytest

root = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
# pages that must show figures (matplotlib PNGs) and pages that must have API sections
FIGURES = ['attribution.html', 'search.html', 'features.html', 'patching.html', 'evals.html',
           'tutorials/ioi_circuit.html', 'tutorials/copy_features.html']
API = ['hooks.html', 'scan.html', 'model.html', 'data.html', 'tiny.html', 'sae.html', 'train.html', 'attribution.html',
       'search.html', 'features.html', 'patching.html', 'cli.html', 'demo.html',
       'sites.html', 'load.html', 'evals.html', 'dashboards.html']

def _browser_or_skip():
    try: import playwright.sync_api  # noqa: F401
    except ImportError: playwright_ok = False
    else: playwright_ok = True
    if CHROMIUM and playwright_ok: return
    msg = f"needs chromium ({CHROMIUM or 'not found'}) and playwright ({'ok' if playwright_ok else 'not installed'})"
    if os.environ.get('MAMBA_SAE_REQUIRE_BROWSER') == '1': pytest.fail(msg)
    pytest.skip(msg)

def _package_files()->dict:
    "sha256 of every file under mamba_sae/ (the shipped weights included): the docs build must not write there"
    import hashlib
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / 'mamba_sae').rglob('*')) if p.is_file() and '__pycache__' not in p.parts}

@pytest.fixture(scope='module')
def site():
    _browser_or_skip()
    env = {**os.environ, 'PATH': f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # this venv's nbdev and python
    before = _package_files()
    r = subprocess.run(['bash', str(root / 'tools' / 'build-docs')], cwd=root, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    changed = sorted(p for p, h in _package_files().items() if before.get(p) != h)
    assert not changed, f"building the docs changed files of the package (a notebook cell that writes ran): {changed}"
    docs = root / '_docs'
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(docs))
    handler.log_message = lambda *a, **k: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield docs, f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown()

def test_every_page_loads_clean_with_api_figures_and_links(site):
    from playwright.sync_api import sync_playwright
    docs, base = site
    pages = sorted(str(p.relative_to(docs)) for p in docs.rglob('*.html') if '_screenshots' not in p.parts)
    assert len(pages) >= 17 and 'index.html' in pages
    shots = docs / '_screenshots'; shots.mkdir(exist_ok=True)
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                                                  '--disable-component-update', '--disable-sync', '--no-first-run'])
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        errors = []
        page.on('console', lambda m: errors.append(f'console {m.type}: {m.text}') if m.type == 'error' else None)
        page.on('pageerror', lambda e: errors.append(f'page error: {e}'))
        page.on('requestfailed', lambda r: errors.append(f'request failed: {r.url}'))
        for name in pages:
            errors.clear()
            resp = page.goto(base + name, wait_until='load')
            if resp is None or resp.status != 200: problems.append(f'{name}: HTTP {resp.status if resp else "none"}')
            problems += [f'{name}: {e}' for e in errors if 'favicon' not in e]
            if not page.locator('h1').count(): problems.append(f'{name}: no title')
            if page.locator('nav a').count() < 17: problems.append(f'{name}: sidebar has {page.locator("nav a").count()} links')
            if name in API and not page.locator('.api h3').count(): problems.append(f'{name}: no API sections')
            if name in FIGURES:
                imgs = page.eval_on_selector_all('main img', 'els => els.map(e => e.naturalWidth)')
                if not imgs or min(imgs) == 0: problems.append(f'{name}: figures missing or broken ({imgs})')
            for href in page.eval_on_selector_all('a[href]', 'els => els.map(e => e.getAttribute("href"))'):
                u = urlparse(href)
                if u.scheme or href.startswith('#') or href.startswith('data:'): continue
                target = docs / urlparse(urljoin(base + name, href)).path.lstrip('/')
                if not target.exists(): problems.append(f'{name}: broken link {href}')
            page.screenshot(path=str(shots / (name.replace('/', '_') + '.png')), full_page=False)
        browser.close()
    assert not problems, '\n'.join(problems)
    # the dashboards notebook's page shows real dashboards, as HTML
    assert 'mamba-sae-dashboard' in (docs / 'dashboards.html').read_text()
