# Two commands set everything up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export OMP_NUM_THREADS ?= 1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the spark extra (pyspark, dbt-spark) on top of the locked install, for `make test-spark`
SPARK_STAMP := $(VENV)/.installed-spark
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := dbt_project/dbt_project.yml dbt_project/profiles.yml $(shell find dbt_project/models dbt_project/macros dbt_project/seeds -type f 2>/dev/null)
DATAMART_HOME ?= $(CURDIR)/data/home
DATAMART_LANDING_DIR ?= $(CURDIR)/data/landing
DEMO_CUSTOMERS ?= 20000
DEMO_DAYS ?= 365
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DATAMART_HOME DATAMART_LANDING_DIR

.PHONY: install system-deps demo refresh test test-spark ui bench bench-models lint clean

# Byte-compiled at install: every refresh, dbt invocation and test process imports dbt, dagster,
# GX and pandas, and where PYTHONDONTWRITEBYTECODE is set (CI, containers) nothing else writes
# the .pyc files: without them each process compiles ~1,300 modules again (~2 s of CPU for dbt)
$(STAMP): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@UV=$$(command -v uv || echo "python3 -m uv"); $$UV sync --frozen --compile-bytecode --python python3.11
	@$(BIN)/python -m compileall -q orchestration models_ml data_quality >/dev/null
	@touch $(STAMP)

install: $(STAMP) $(MANIFEST)  ## locked install into .venv, dbt manifest parsed

# Dagster reads dbt's manifest when definitions load: re-parse whenever the dbt project changed
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && DBT_PROFILES_DIR=. ../$(BIN)/dbt parse --quiet --no-partial-parse

demo: install  ## sample data if the landing zone is empty, full refresh, where the datamart is
	@if [ -z "$$(ls -A $(DATAMART_LANDING_DIR) 2>/dev/null)" ]; then \
		echo "landing zone $(DATAMART_LANDING_DIR) is empty: generating $(DEMO_CUSTOMERS) customers x $(DEMO_DAYS) days"; \
		$(BIN)/datamart generate --out $(DATAMART_LANDING_DIR) --customers $(DEMO_CUSTOMERS) --days $(DEMO_DAYS) \
			--start $$(date -d "-$(DEMO_DAYS) days" +%F) --seed 42; \
	fi
	$(BIN)/datamart refresh

refresh: install
	$(BIN)/datamart refresh

system-deps:  ## Debian's chromium and postgresql for the browser and PostgreSQL tests (when root)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		missing=""; \
		[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
		if [ -n "$$missing" ]; then \
			echo "installing$$missing for the browser and PostgreSQL tests"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
				|| echo "could not install$$missing: those tests will be skipped"; \
		fi; \
	fi

test: install system-deps  ## the whole test suite but the Spark engine's (make test-spark)
	$(BIN)/python -m pytest -q -m "not spark"

# The Spark engine is an optional extra (a 456 MB pyspark, a JVM): added to the same .venv
# with --inexact, since `uv sync` without it removes what the lock's default install lacks. Its
# stamp follows the main one: a re-install by `make install` (exact, pyspark removed) re-adds it.
$(SPARK_STAMP): $(STAMP)
	@UV=$$(command -v uv || echo "python3 -m uv"); \
		$$UV sync --frozen --extra spark --inexact --compile-bytecode --python python3.11
	@touch $(SPARK_STAMP)

test-spark: $(SPARK_STAMP) $(MANIFEST)  ## the same refresh on Spark and DuckDB, datamarts compared (needs Java 17+)
	@command -v java >/dev/null 2>&1 || echo "no java on PATH: the Spark tests will be skipped"
	$(BIN)/python -m pytest -q -m spark

ui: install  ## Dagster webserver + daemon on the same assets (http://127.0.0.1:3000)
	@mkdir -p $(DAGSTER_HOME)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: install  ## full refresh + one-day night at SCALE=s|m|l (bench/results/refresh-<scale>.md)
	$(BIN)/python bench/bench_refresh.py --scale $${SCALE:-s}

bench-models: install  ## train and score the models on 1,000,000 synthetic customers
	$(BIN)/python bench/bench_models.py --customers $${CUSTOMERS:-1000000}

lint: install
	$(BIN)/ruff check orchestration models_ml data_quality tests

clean:
	rm -rf data/home dbt_project/target dbt_project/logs
