# The README's two commands: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DAGSTER_DISABLE_TELEMETRY := 1
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export STREAMLIT_SERVER_HEADLESS := true
export STREAMLIT_SERVER_ADDRESS := 127.0.0.1
export GX_ANALYTICS_ENABLED := false
export PYTHONDONTWRITEBYTECODE :=

# uv from PATH, else bootstrapped once into .bootstrap with pip.
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.bootstrap/bin/uv)
RUN := $(UV) run --locked --no-sync
DEMO := data/demo
PEOPLE ?= 2000

.PHONY: help install demo demo-data demo-run demo-serve stop test test-all lint bench browser-deps \
	spark-deps spark-udf

help:
	@echo "make demo   install, build the warehouse from synthetic data, start dashboard + Dagster UI"
	@echo "make test   install and run the test suite"
	@echo "make stop   stop the servers started by make demo"

$(CURDIR)/.bootstrap/bin/uv:
	python3 -m venv .bootstrap
	.bootstrap/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --locked
	@mkdir -p $(DAGSTER_HOME)

# Debian's chromium for the browser tests; the tests never download a browser.
browser-deps:
	@{ command -v chromium && fc-list | grep -q NotoSansDevanagari; } >/dev/null 2>&1 || { \
	  echo "Installing Debian chromium for browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null; }

# Java 17 for linkage scoring on Spark (PAHICHAN_LINK_ENGINE=spark) and its tests: Debian's
# JDK (javac builds the Dice UDF below); never downloaded from anywhere else.
spark-deps:
	@command -v javac >/dev/null 2>&1 || { \
	  echo "Installing Debian's OpenJDK 17 for the Spark linkage engine"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    openjdk-17-jdk-headless >/dev/null; }

# The Spark Dice UDF (linkage/matching/spark_udf/BloomDice.java) compiled against the
# locked pyspark's jars. The jar is a build artefact (git-ignored); without it Spark
# scoring uses the slower Python fallback, which gives the same values.
SPARK_UDF := linkage/matching/spark_udf
spark-udf: $(SPARK_UDF)/bloom-dice.jar

$(SPARK_UDF)/bloom-dice.jar: $(SPARK_UDF)/BloomDice.java | install spark-deps
	@set -e; build=$$(mktemp -d); trap 'rm -rf "$$build"' EXIT; \
	jars=$$($(RUN) python -c "import pathlib, pyspark; print(pathlib.Path(pyspark.__file__).parent / 'jars')"); \
	javac --release 17 -nowarn -cp "$$jars/*" -d "$$build" $<; \
	jar --create --file $@ -C "$$build" .; echo "Built $@"

demo: install demo-data demo-run demo-serve

demo-data:
	@rm -rf $(DEMO) && mkdir -p $(DEMO)/extracts $(DEMO)/agency $(DEMO)/inbox $(DEMO)/warehouse $(DEMO)/office
	$(RUN) pahichan synth --people $(PEOPLE) --seed 7 --out $(DEMO)/extracts --truth-out $(DEMO)/agency/truth
	$(RUN) pahichan keys new --out $(DEMO)/agency/linkage.key
	$(RUN) pahichan warehouse-key --out $(DEMO)/office/warehouse.key
	@for src in shelter ocmc migration; do \
	  $(RUN) pahichan keys new-signing --out $(DEMO)/agency/$$src-demo.signing.pem && \
	  $(RUN) pahichan agency-key register --agency $$src-demo --source-type $$src --by demo \
	    --public-key $(DEMO)/agency/$$src-demo.signing.pub.pem \
	    --warehouse $(DEMO)/warehouse/pahichan.duckdb --warehouse-key $(DEMO)/office/warehouse.key && \
	  { $(RUN) pahichan pseudonymise --source-type $$src --agency $$src-demo \
	    --key $(DEMO)/agency/linkage.key --signing-key $(DEMO)/agency/$$src-demo.signing.pem \
	    --in $(DEMO)/extracts/$$src.csv \
	    --out $(DEMO)/inbox/$$src/$$src-demo --crosswalk-dir $(DEMO)/agency/crosswalks \
	  || [ $$? -eq 3 ]; } || exit 1; done

demo-run:
	$(RUN) pahichan run --inbox $(DEMO)/inbox --warehouse $(DEMO)/warehouse/pahichan.duckdb \
	  --warehouse-key $(DEMO)/office/warehouse.key

demo-serve:
	$(RUN) python -m pipelines.demo_servers start --data $(DEMO)

stop:
	$(RUN) python -m pipelines.demo_servers stop --data $(DEMO)

test: install browser-deps spark-deps spark-udf
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) pytest

test-all: install browser-deps spark-deps spark-udf
	$(RUN) pytest -m ""

lint: install
	$(RUN) ruff check . && $(RUN) ruff format --check .
