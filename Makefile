# Two commands do all the set-up (README.md):
#   make test    ruff, unit tests, strict nbval over notebooks/
#   make review  execute every notebook and render the review under _build/site/
# Both create .venv from the pinned packages (constraints.txt) when it is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: test review site site-test venv lint unit nbval bench notebooks clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "evidence-kit needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

unit: venv
	$(BIN)/pytest tests
	$(BIN)/pytest --doctest-modules src/evidence_kit -q -p no:cacheprovider

nbval: venv
	$(BIN)/pytest --nbval notebooks --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

test: lint unit nbval

review: venv
	$(BIN)/evidence-kit build

# The site from the committed outputs, without executing (refused when evidence/ changed since
# the notebooks were executed), and its browser tests (screenshots in _build/screenshots/).
site: venv
	$(BIN)/evidence-kit build --no-execute

site-test: venv
	$(BIN)/pytest tests/test_site.py tests/test_report.py -p no:cacheprovider

# Maintainers: after editing a notebook (or its .py twin), re-execute and commit both.
notebooks: venv
	$(BIN)/jupytext --sync notebooks/*.ipynb
	$(BIN)/evidence-kit build --update-notebooks

bench: venv
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf _build .pytest_cache
