#!/usr/bin/env bash
# Trains the Rasa model into models/ only when what the model is made from changed.
#
# Rasa 3.6 has no "skip when nothing changed" of its own: `rasa train` always runs the training
# graph (its cache in ~/.rasa/cache only saves some components, and is empty on a new machine).
# So the fingerprint of what a model is built from (config, domain, training data, the custom
# components' code, the Rasa server's pinned requirements: requirements/runtime.txt) is written
# next to each model as models/<model>.fingerprint, and training is skipped when the newest
# model's fingerprint is the project's. `--force` trains anyway; other arguments go to `rasa train`.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0 RASA_TELEMETRY_ENABLED=false

force=0
args=()
for a in "$@"; do
  if [ "$a" = "--force" ]; then force=1; else args+=("$a"); fi
done

components() {
  # The project's own components named in config.yml (`name: rasa_ext.wordless_input.X`) -> their files.
  grep -oE 'name: *(rasa_ext|bot|actions)(\.[A-Za-z0-9_]+)+' config.yml | sed -E 's/name: *//; s/\.[A-Za-z0-9_]+$//; s#\.#/#g; s/$/.py/' \
    | while read -r f; do [ -f "$f" ] && echo "$f"; done
}

fingerprint() {
  # Sorted file list, then each file's content: a rename or an added file changes it too.
  {
    find config.yml domain.yml data $(components) bot/recall/encoder.py requirements/runtime.txt requirements/models.txt -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' -o -name '*.txt' \) \
      -print | LC_ALL=C sort | while read -r f; do
        printf '%s\n' "$f"
        sha256sum "$f" | cut -d' ' -f1
      done
  } | sha256sum | cut -d' ' -f1
}

want=$(fingerprint)
newest=$(ls -t models/*.tar.gz 2>/dev/null | sed -n 1p || true)
if [ "$force" = 0 ] && [ -n "$newest" ] && [ "$(cat "${newest%.tar.gz}.fingerprint" 2>/dev/null)" = "$want" ]; then
  echo "model up to date: $newest"
  exit 0
fi

.venv/bin/rasa train --config config.yml --domain domain.yml --data data --out models --quiet "${args[@]+"${args[@]}"}"
newest=$(ls -t models/*.tar.gz | sed -n 1p)
echo "$want" > "${newest%.tar.gz}.fingerprint"
