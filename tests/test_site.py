"""The rendered review read as a reader would: every page opened in headless Chromium at a laptop
width (1400 px) and a phone width (390 px).

Each page must: not overflow the body sideways (wide things scroll in their own box); show no
``NaN``, ``None`` or ``<NA>`` in its text; have no dead local link (every href resolves to a file,
and its #anchor to an id in it; outside links are allowed and never fetched); load every image;
fetch nothing from the network; log no console error; and have no serious or critical
accessibility violation found by axe-core, run in the page (installed from the npm registry by
:func:`axe_js`). Screenshots go to ``_build/screenshots/`` and a summary of every page's results
to ``_build/screenshots/results.json``.

The site is rendered from the committed notebook outputs (nbval re-executes the notebooks
separately). The API reference pages are held to every check but the text one: there ``None``
and ``NaN`` are Python values the docstrings name.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import evidence_kit as ek
from evidence_kit.app.apiref import public_modules
from evidence_kit.app.site import build
from evidence_kit.evidence import OUTCOME_DOMAINS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "_build" / "screenshots"
AXE_VERSION = "4.14.1"  # axe-core from the npm registry; one version so results do not drift
AXE_DIR = ROOT / "_build" / "node"
WIDTHS = (1400, 390)
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
PAGES = (["index", "methods", "api"] + NOTEBOOKS
         + ["api/" + m.replace(".", "/") for m in public_modules()])
FULL_PAGE = {"index", "methods", "api"}  # whole-page screenshots; the others show the first screen
BAD_TEXT = re.compile(r"\bNaN\b|\bNone\b(?! [a-z])|<NA>")  # "None of the reviews ..." is English


# --- the site and the browser -----------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    build(ROOT, out=out, execute=False, write_record=False, log=None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "build_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}\n")
    return out


def test_site_has_every_page(site):
    assert NOTEBOOKS, "no notebooks"
    for name in NOTEBOOKS:
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        assert "<details class=\"ek-code\">" in page, f"{name}: code is not folded"
    index = (site / "index.html").read_text(encoding="utf-8")
    for name in NOTEBOOKS:
        assert f'href="{name}.html"' in index
    for name in ("methods.html", "api.html", "api/evidence_kit.html", "data/conclusions.csv",
                 "data/evidence_gap_map.csv", "data/bottom_lines.csv"):
        assert (site / name).exists(), name


def test_index_shows_date_version_principles_and_map(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert ek.__version__ in index and "Built " in index
    eb = ek.load_evidence(ROOT / "evidence")
    for pid in eb.principles["id"]:
        assert f'id="{pid.lower()}"' in index, f"no bottom line block for {pid}"
    assert 'class="ek-map"' in index and "<svg" in index
    table = index.split('class="ek-map"', 1)[1].split("</table>", 1)[0]
    assert table.count("<td") == len(eb.questions) * len(OUTCOME_DOMAINS)  # every question x outcome


def test_api_reference_renders_docstrings(site):
    page = (site / "api" / "evidence_kit.html").read_text(encoding="utf-8")
    assert "meta_analysis" in page and "effect_sizes" in page
    synthesis = (site / "api" / "evidence_kit" / "synthesis.html").read_text(encoding="utf-8")
    assert "tau" in synthesis  # a docstring's prose, not only signatures


def test_pages_reference_nothing_on_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        # links to other sites are fine (a reader follows them); loading anything from one is not
        for marker in ('src="http', "src='http", "@import url(http", "url(http", '<link rel="stylesheet" href="http',
                       '<script src="//', 'src="//'):
            assert marker not in text, f"{page.relative_to(site)} fetches from the network ({marker})"


def test_methods_appendix_speaks_the_fields_words(site):
    text = (site / "methods.html").read_text(encoding="utf-8")
    assert "PubMed Central" in text and "PRISMA 2020" in text and "AMSTAR 2" in text and "GRADE" in text
    for tool_word in ("search:pages", "search:docs", "find_repos", "betsyjwolf", "corpus"):
        assert tool_word not in text, f"methods page names a tool: {tool_word}"


def _need_browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe-core's browser build, installed from the npm registry into ``_build/node`` once."""
    path = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    package = AXE_DIR / "node_modules" / "axe-core" / "package.json"
    if path.exists() and json.loads(package.read_text()).get("version") == AXE_VERSION:
        return path
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI"):
            pytest.fail("npm is not installed; .ci/run installs it")
        pytest.skip("npm is not installed: cannot install axe-core")
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                           "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}"],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not path.exists():
        pytest.fail(f"npm install axe-core@{AXE_VERSION} failed:\n{done.stderr[-2000:]}")
    return path


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module", autouse=True)
def _write_results():
    yield
    if RESULTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "results.json").write_text(json.dumps(RESULTS, indent=1, sort_keys=True))


_IDS: dict[Path, set[str]] = {}


def _ids(path: Path) -> set[str]:
    if path not in _IDS:
        text = path.read_text(encoding="utf-8", errors="replace")
        _IDS[path] = {html.unescape(m) for m in re.findall(r'\s(?:id|name)="([^"]*)"', text)}
    return _IDS[path]


def dead_links(page_path: Path, hrefs: list[str], site: Path) -> list[str]:
    """Local hrefs that resolve to no file, or to no id in the file."""
    dead = []
    for href in sorted(set(hrefs)):
        parts = urlsplit(href)
        if parts.scheme in ("http", "https", "mailto", "data"):
            continue
        if parts.scheme and parts.scheme != "file":
            dead.append(f"{href} (scheme {parts.scheme})")
            continue
        target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
        if parts.scheme == "file":
            target = Path(unquote(parts.path))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            dead.append(f"{href} (no file)")
            continue
        if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target):
            dead.append(f"{href} (no anchor)")
    return dead


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_reads_well(site, browser, axe_js, name, width):
    path = site / f"{name}.html"
    assert path.exists(), f"{name}.html was not written"
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    external: list[str] = []
    console: list[str] = []

    def route(r):
        if r.request.url.startswith(("file://", "data:")):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    problems: list[str] = []
    try:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        doc_width, body_width, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
        if max(doc_width, body_width) > inner + 1:
            wide = page.evaluate("""(w) => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.ek-scroll, .ek-map-box, pre'))
                .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
                                      + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')""", inner)
            problems.append(f"body is {max(doc_width, body_width)} px wide in a {inner} px window: {wide}")
        if not name.startswith("api/"):
            text = page.evaluate("() => document.body.innerText")
            bad = BAD_TEXT.findall(text)
            if bad:
                problems.append(f"text shows {len(bad)} x NaN/None/<NA>: {sorted(set(bad))}")
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete && e.naturalWidth > 0, e.src.slice(0, 60)])")
        broken = [src for ok, src in images if not ok]
        if broken:
            problems.append(f"images that did not load: {broken}")
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        dead = dead_links(path, hrefs, site)
        if dead:
            problems.append(f"{len(dead)} dead links: {dead[:8]}")
        page.add_script_tag(path=str(axe_js))
        found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                              ".map(v => ({id: v.id, impact: v.impact, help: v.help, n: v.nodes.length,"
                              " target: v.nodes[0] && v.nodes[0].target.join(' ')}))")
        serious = [v for v in found if v["impact"] in ("serious", "critical")]
        for v in serious:
            problems.append(f"axe {v['impact']}: {v['id']} x{v['n']} ({v['help']}; e.g. {v['target']})")
        if external:
            problems.append(f"network requests: {external}")
        if console:
            problems.append(f"console errors: {console}")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name.replace('/', '__')}-{width}.png"), full_page=name in FULL_PAGE)
        RESULTS[f"{name} @ {width}"] = {"problems": problems, "axe_minor": sorted(
            f"{v['impact']}: {v['id']} x{v['n']}" for v in found if v not in serious)}
    finally:
        context.close()
    assert not problems, f"{name}.html at {width} px:\n" + "\n".join(problems)
