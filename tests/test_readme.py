"""Every ```python block of README.md runs as written, in order, in a fresh interpreter (as a
fresh Jupyter kernel would), from the repository root and from notebooks/; every expression a
kernel would display is displayed (repr and, where defined, HTML), so a result that cannot print
fails too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

HARNESS = r'''
import ast, sys
import matplotlib
matplotlib.use("Agg")
blocks = {blocks!r}
ns = {{"__name__": "__main__"}}
for b, code in enumerate(blocks, start=1):
    tree = ast.parse(code)
    for node in tree.body:
        where = f"README python block {{b}}, line {{node.lineno}}"
        try:
            if isinstance(node, ast.Expr):  # a kernel displays the value of an expression
                value = eval(compile(ast.Expression(node.value), where, "eval"), ns)
                for v in (value if isinstance(value, tuple) else (value,)):
                    text = repr(v)
                    assert "=None" not in text and "fit=" not in text, f"{{where}}: raw dataclass repr"
                    if hasattr(v, "_repr_html_"):
                        v._repr_html_()
            else:
                exec(compile(ast.Module([node], type_ignores=[]), where, "exec"), ns)
        except Exception as exc:
            print(f"{{where}}: {{ast.get_source_segment(code, node)}}", file=sys.stderr)
            raise
print("ran", len(blocks), "blocks")
'''


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_readme_has_python_blocks():
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert all("import evidence_kit as ek" in blocks[0] for _ in [0])


@pytest.mark.parametrize("cwd", [".", "notebooks"])
def test_readme_blocks_run_in_a_fresh_kernel(cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    src = str(ROOT / "src")
    if (ROOT / "src" / "evidence_kit").is_dir():  # the checkout's code, as the other tests run it
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    script = HARNESS.format(blocks=python_blocks())
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT / cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"ran {len(python_blocks())} blocks" in proc.stdout
