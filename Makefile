# The two commands of the README. Both install what is missing first.
.PHONY: run run-cluster test install train lint bench

install:
	@./scripts/bootstrap.sh

run: install
	@./scripts/run.sh

# The cluster shape (docs/ARCHITECTURE.md, "Cluster shape"): HAProxy, 2 Rasa servers, 2 action
# servers, PostgreSQL, Redis lock store, RabbitMQ event broker, console and its broker consumer.
run-cluster: install
	@./scripts/run_cluster.sh

test: install
	@./scripts/test.sh

train: install
	@./scripts/train.sh

lint: install
	@.venv/bin/ruff check bot actions rasa_ext console tests benchmarks scripts

bench: install
	@.venv/bin/python benchmarks/bench_rasa.py
