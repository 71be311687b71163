# make demo | make test | make bench | make lint
PYTHON ?= python3
# pytest-xdist workers: more than the cores, since a crawl test mostly waits on its server; work
# stealing keeps the long tests from ending up together at the end. On a 2-core machine: 4 workers
# 3m29s, 3 workers 3m40s, one process ~10 min. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench bench-extract bench-quality bench-crawl bench-dataset bench-dedup bench-hostile bench-redis clean

install: $(STAMP)

# Reinstalls whenever the pinned dependencies change.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	rm -rf .arabtoday/demo-state
	$(PY) -m arabtoday demo

lint: install
	$(PY) -m ruff check arabtoday tests benchmarks

test: install lint
	bash scripts/ensure-redis.sh
	bash scripts/ensure-chromium.sh
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test-fast: install
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not slow"

bench: bench-extract bench-quality bench-crawl bench-dedup bench-hostile

bench-extract: install
	$(PY) benchmarks/bench_extract.py

# Real pages of other publishers (benchmarks/realpages/): the fallback path against trafilatura, same process.
bench-quality: install
	$(PY) benchmarks/bench_quality.py

bench-crawl: install
	$(PY) benchmarks/bench_crawl.py --articles 5000 --memory-sizes 5000,50000 --workers 1,2,4

bench-dataset: install
	$(PY) benchmarks/bench_dataset.py

bench-dedup: install
	$(PY) benchmarks/bench_dedup.py

bench-hostile: install
	$(PY) benchmarks/bench_hostile.py --entries 1000000 --bomb-gib 4 --timeout 240

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .arabtoday output/*.jsonl output/*.json
