# The two commands of the README: `make book` (build the course site) and `make test`.
# Both create .venv from requirements.txt on first use; nothing else needs to be installed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv book test bench clean release grade report postgresql

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# --- course website (book/_ext/ holds the helpers these targets call) --------------------
.PHONY: assets browser serve publish
ASSETS := book/_assets_offline

# MathJax, require.js and the ipywidgets manager, served by the site itself (npm pack, pinned)
assets: $(STAMP)
	$(BIN)/python book/_ext/fetch_offline_assets.py $(ASSETS)

# CONVLIB_STATIC=1: interactive cells pre-render their frames (convlib.widgets.explore).
# The execution cache keys a chapter on its code cells only: cache_key.py clears it when
# convlib's source or CONVLIB_STATIC changed since the last build, so no figure is stale.
book: $(STAMP) assets
	export CONVLIB_STATIC=$${CONVLIB_STATIC:-1} && \
	$(BIN)/python book/_ext/cache_key.py _build convlib CONVLIB_STATIC && \
	$(BIN)/jupyter-book build book --config _config.yml \
		--path-output . -W -n --keep-going
	@echo "The site is in _build/html: open _build/html/index.html, or run 'make serve'."

# Debian's headless chromium + chromedriver for tests/test_site.py (needs root the first time)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)

serve:
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

# push _build/html to the gh-pages branch of REMOTE (default origin) for GitHub Pages
publish: book
	sh book/_ext/publish_gh_pages.sh _build/html

# Debian's PostgreSQL server for tests/test_grading_gradebook.py (initdb/pg_ctl; needs root the first time)
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		(apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive \
		 apt-get -o DPkg::Lock::Timeout=600 install -y postgresql)

test: $(STAMP) browser postgresql
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_convolve1d.py
	$(BIN)/python benchmarks/bench_conv2d.py

# --- homework (nbgrader; the repository root is the course root) -------------------------
# make release hw=hw1 | make grade hw=hw1 workers=2 [scheduler=tcp://HOST:8786] | make report
release: $(STAMP)
	$(BIN)/nbgrader generate_assignment $(hw) --force

grade: $(STAMP)
	$(BIN)/python -m convlib.grading.autograde $(hw) --workers $(or $(workers),2) \
		$(if $(scheduler),--scheduler $(scheduler))

report: $(STAMP)
	$(BIN)/python -m convlib.grading.report

clean:
	rm -rf _build
