# Two entry points, both self-contained on a fresh machine with Python 3.11:
#   make demo   creates .venv, installs, and runs `ladder demo`: the committed cpu results (or, with
#               OUT=dir holding none, a fresh run of the smoke ladder), baselines and example
#               forecasts scored, the leaderboard printed and its web page written
#   make test   creates .venv, installs, lints (ruff check, ruff format --check) and runs the test suite
#               in two processes (pytest-xdist; each test file stays in one, with its fixtures)
# TORCH is installed before anything that depends on it: torch==2.13.0 is the CPU
# build on machines without a GPU (a plain `pip install torch` pulls GB of CUDA). The interp
# extra (transformers, transformer-lens, nnsight) then adds no CUDA package either.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
OUT ?= results
# The code benchmarks/performance.py compares with: the last commit before the training speed-up.
BEFORE ?= fd1f126
PY := $(VENV)/bin/python

.PHONY: demo test bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test,ray,interp]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/ladder demo --out $(OUT)

test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest --numprocesses 2 --dist loadfile

bench: $(VENV)/.installed
	$(PY) benchmarks/performance.py --before $(BEFORE)
	$(PY) benchmarks/score_many.py
