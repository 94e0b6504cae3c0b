#!/usr/bin/env bash
# Creates .venv with Python 3.10 (Rasa 3.6 needs Python < 3.11) and installs the pinned
# requirements when they changed since the last install. Safe to run again and again.
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

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
  py=$(find_python) || { echo "error: Python 3.10 not found (Rasa 3.6 needs Python 3.10); install it or set PYTHON=/path/to/python3.10" >&2; exit 1; }
  echo "creating .venv with $py"
  rm -rf .venv
  "$py" -m venv .venv
fi

stamp=.venv/.requirements.sha256
want=$(cat requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing pinned requirements into .venv (first run takes a few minutes)"
  # Build tools first, pinned too: Rasa and TensorBoard declare them as requirements.
  .venv/bin/python -m pip install --quiet --upgrade "pip==24.0" "setuptools==70.3.0" "wheel==0.45.1"
  .venv/bin/python -m pip install --quiet --no-deps -r requirements.txt
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi
