"""The API reference of the site: pdoc renders the public packages' docstrings into ``api/``.

Offline: pdoc reads the installed package and writes static HTML with its search index beside it;
nothing is fetched. ``templates/pdoc/`` adds a link back to the review.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from pathlib import Path

import pdoc
import pdoc.render

import evidence_kit

TEMPLATES = Path(__file__).parent / "templates" / "pdoc"


def public_modules() -> list[str]:
    """``evidence_kit`` and its public subpackages (no leading underscore), in name order."""
    subs = sorted(m.name for m in pkgutil.iter_modules(evidence_kit.__path__) if m.ispkg and not m.name.startswith("_"))
    return ["evidence_kit"] + [f"evidence_kit.{name}" for name in subs]


def summary(module: str) -> str:
    """The first sentence of a module's docstring."""
    doc = (importlib.import_module(module).__doc__ or "").strip()
    first = " ".join(doc.split("\n\n", 1)[0].split())
    return first.split(". ", 1)[0].rstrip(".") + "." if first else ""


def render_api(out: str | Path) -> tuple[list[dict], list[str]]:
    """Write the reference into ``out``.

    Returns one entry per public package (name, href relative to the site root, summary) for the
    site's API page, and pdoc's warnings (e.g. a name in ``__all__`` that does not resolve).
    """
    out = Path(out)
    pdoc.render.configure(docformat="numpy", show_source=False, search=True, math=False, mermaid=False,
                          template_directory=TEMPLATES, footer_text=f"evidence-kit {evidence_kit.__version__}")
    modules = public_modules()
    with warnings.catch_warnings(record=True) as caught:  # reported by the build, not printed mid-way
        warnings.simplefilter("always")
        pdoc.pdoc(*modules, output_directory=out)
    entries = [{"name": m, "href": f"{out.name}/{m.replace('.', '/')}.html", "summary": summary(m)} for m in modules]
    # a package that __all__ already reaches is named again on purpose, to give it a page: not news
    news = {str(w.message) for w in caught if "has already been added" not in str(w.message)}
    return entries, sorted(news)
