# The two commands of the README. Both install what is missing first.
.PHONY: run test install train lint bench

install:
	@./scripts/bootstrap.sh

run: install
	@./scripts/run.sh

test: install
	@./scripts/test.sh

train: install
	@./scripts/train.sh

lint: install
	@.venv/bin/ruff check bot actions rasa_ext console tests benchmarks scripts

bench: install
	@.venv/bin/python benchmarks/bench_rasa.py
