# make install | make demo | make serve | make test | make bench | make lint
PYTHON ?= python3
# pytest-xdist workers: more than the cores, since a crawl test mostly waits on its server; work
# stealing keeps the long tests from ending up together at the end. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install install-dev demo serve test test-fast lint bench bench-extract bench-quality bench-startup bench-crawl bench-reextract bench-dataset bench-dedup bench-hostile clean mutants

# What a crawl needs, from the pinned versions in pyproject.toml (reinstalled when they change).
install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

# ... plus the test suite's and the benchmarks' libraries (pytest, ruff, pandas, polars, duckdb, datasets, scrapyd).
install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

# The bundled copy of the site served on loopback, crawled by the real spider; prints the run report.
demo: install
	rm -rf .arabtoday/demo-state
	$(PY) -m devkit demo

# The bundled copy of the site on http://127.0.0.1:$(PORT) until Ctrl-C (crawl it from another terminal).
serve: install
	$(PY) -m devkit serve --port $(PORT)

lint: install-dev
	$(PY) -m ruff check arabtoday devkit tests benchmarks scripts

test: install-dev lint
	bash scripts/ensure-tools.sh
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test-fast: install-dev
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not slow"

bench: bench-extract bench-quality bench-startup bench-crawl bench-reextract bench-dedup bench-hostile

bench-extract: install-dev
	$(PY) benchmarks/bench_extract.py

# Real pages of other publishers (benchmarks/realpages/): the fallback path against trafilatura, same process.
bench-quality: install-dev
	$(PY) benchmarks/bench_quality.py

# Whole processes: scrapy list against python -c "import scrapy" (median of N, alternating).
bench-startup: install-dev
	$(PY) benchmarks/bench_startup.py

bench-crawl: install-dev
	$(PY) benchmarks/bench_crawl.py --articles 5000 --memory-sizes 5000,50000 --workers 1,2,4

# A crawl with ARABTODAY_WARC_DIR (disk per article), then extract --jobs 1 and 2 over its WARC files.
bench-reextract: install-dev
	$(PY) benchmarks/bench_reextract.py --articles 3000 --jobs 1,2

bench-dataset: install-dev
	$(PY) benchmarks/bench_dataset.py

bench-dedup: install-dev
	$(PY) benchmarks/bench_dedup.py

bench-hostile: install-dev
	$(PY) benchmarks/bench_hostile.py --entries 1000000 --bomb-gib 4 --timeout 240

# Named faults the suite must catch (scripts/mutants.py): each in a copy of HEAD, its tests run; exit 1 if one survives.
mutants: install-dev
	$(PY) scripts/mutants.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .arabtoday output/*.jsonl output/*.json output/*.html
