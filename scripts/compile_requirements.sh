#!/usr/bin/env bash
# Compiles requirements/*.in into exactly pinned requirements/*.txt with pip-tools 7.4.1, run from
# a scratch venv of its own (never .venv or .venv-actions). runtime.txt first: actions.in and dev.in
# are constrained by it (`-c runtime.txt`), so a package in two sets has one version everywhere.
# pip-compile keeps the pins already in a .txt; to move one: --upgrade-package NAME (passed through).
#   scripts/compile_requirements.sh                         # after editing an .in file
#   scripts/compile_requirements.sh --upgrade-package ruff  # one package to its newest allowed version
set -euo pipefail
cd "$(dirname "$0")/.."

tools=${PIPTOOLS_VENV:-${TMPDIR:-/tmp}/clonus-piptools-venv}
if [ ! -x "$tools/bin/pip-compile" ]; then
  py=""
  for cand in "${PYTHON:-}" python3.10 "$HOME/.pyenv/versions/3.10"*/bin/python /root/.pyenv/versions/3.10*/bin/python /usr/bin/python3.10; do
    [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { py=$(command -v "$cand"); break; }
  done
  [ -n "$py" ] || { echo "error: Python 3.10 not found (the pins are for Python 3.10); set PYTHON=" >&2; exit 1; }
  "$py" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet "pip==24.0" "setuptools==70.3.0" "wheel==0.45.1" "pip-tools==7.4.1"
fi

export CUSTOM_COMPILE_COMMAND="scripts/compile_requirements.sh"
for name in runtime actions dev; do
  echo "== requirements/$name.in -> requirements/$name.txt"
  "$tools/bin/pip-compile" --quiet --resolver=backtracking --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
    --output-file "requirements/$name.txt" "$@" "requirements/$name.in"
done
