"""The rendered review opens in a real headless browser: every page, with figures and tables,
no console errors and nothing fetched from the network.

The site is rendered from the committed notebook outputs (nbval re-executes the notebooks
separately). Screenshots go to ``_build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from evidence_kit.app.site import build

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build(ROOT, out=out, execute=False, log=None)
    return out


def test_site_has_index_and_one_page_per_notebook(site):
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks"
    for name in notebooks:
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        assert "<details class=\"ek-code\">" in page, f"{name}: code is not folded"
    index = (site / "index.html").read_text(encoding="utf-8")
    for name in notebooks:
        assert f'href="{name}.html"' in index
    assert (site / "data" / "conclusions.csv").exists()


def test_pages_reference_nothing_on_the_network(site):
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for marker in ('src="http', "src='http", 'href="http://', "@import url(http", "url(https://"):
            assert marker not in text, f"{page.name} fetches from the network ({marker})"


def _expected(name: str) -> tuple[int, int]:
    """Figures and HTML tables among a notebook's committed outputs: what its page must show."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    figures = sum("image/png" in o.get("data", {}) for o in outputs)
    tables = sum("<table" in str(o.get("data", {}).get("text/html", "")) for o in outputs)
    return figures, tables


def _need_browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")


def test_every_page_renders_in_headless_chromium(site):
    _need_browser()
    from playwright.sync_api import sync_playwright

    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
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
            for path in sorted(site.glob("*.html")):
                external.clear()
                console.clear()
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                n_tables = page.locator("table").count()
                images = page.eval_on_selector_all(
                    "img", "els => els.map(e => [e.complete && e.naturalWidth > 0, e.src.slice(0, 40)])"
                )
                if path.name == "index.html":
                    if n_tables == 0:
                        problems.append("index.html: no evidence map table")
                else:
                    figures, tables = _expected(path.stem)
                    if figures + tables == 0:
                        problems.append(f"{path.name}: shows neither a figure nor a table")
                    if len(images) < figures:
                        problems.append(f"{path.name}: {len(images)} figures shown, {figures} in the notebook")
                    if n_tables < tables:
                        problems.append(f"{path.name}: {n_tables} tables shown, {tables} in the notebook")
                broken = [src for ok, src in images if not ok]
                if broken:
                    problems.append(f"{path.name}: images that did not load: {broken}")
                if external:
                    problems.append(f"{path.name}: network requests: {external}")
                if console:
                    problems.append(f"{path.name}: console errors: {console}")
                page.screenshot(path=str(shots / f"{path.stem}.png"), full_page=False)
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
