#!/usr/bin/env bash
# Creates the two venvs, both Python 3.10 (Rasa 3.6 and rasa_sdk 3.6 need Python < 3.11), and
# installs their pinned requirements (requirements/*.txt, compiled from requirements/*.in by
# scripts/compile_requirements.sh) when they changed since the last install:
#   .venv          runtime.txt + dev.txt: the Rasa server, console, consumer, supervisord, tests, tools
#   .venv-actions  actions.txt: the action server alone (`python -m actions.server`), no Rasa, no TensorFlow
# Every install is --no-deps (the .txt files are complete, exact pins) and ends with `pip check`.
# Safe to run again and again. `scripts/bootstrap.sh actions` (or `main`) does one venv only.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for cand in "${PYTHON:-}" python3.10 "$HOME/.pyenv/versions/3.10"*/bin/python /root/.pyenv/versions/3.10*/bin/python /usr/bin/python3.10; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  return 1
}

# venv DIR REQUIREMENTS...: DIR is a Python 3.10 venv with exactly these pins installed.
venv() {
  local dir=$1; shift
  if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    local py
    py=$(find_python) || { echo "error: Python 3.10 not found (Rasa 3.6 needs Python 3.10); install it or set PYTHON=/path/to/python3.10" >&2; exit 1; }
    echo "creating $dir with $py"
    rm -rf "$dir"
    "$py" -m venv "$dir"
  fi
  local stamp="$dir/.requirements.sha256" want args=()
  want=$(cat "$@" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing pinned requirements into $dir ($*; the first run takes a few minutes)"
    for req in "$@"; do args+=(-r "$req"); done
    # Build tools first, pinned too: rasa_sdk, Rasa and TensorBoard declare them as requirements.
    "$dir/bin/python" -m pip install --quiet --upgrade "pip==24.0" "setuptools==70.3.0" "wheel==0.45.1"
    "$dir/bin/python" -m pip install --quiet --no-deps "${args[@]}"
    "$dir/bin/python" -m pip check
    echo "$want" > "$stamp"
  fi
}

which=${1:-all}
case "$which" in
  all|main|actions) ;;
  *) echo "usage: scripts/bootstrap.sh [all|main|actions]" >&2; exit 2 ;;
esac
if [ "$which" != actions ]; then venv .venv requirements/runtime.txt requirements/dev.txt; fi
if [ "$which" != main ]; then venv .venv-actions requirements/actions.txt; fi
