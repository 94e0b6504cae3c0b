# Sourced by scripts/run.sh and scripts/run_cluster.sh (after CLONUS_DATA_DIR is set and exists).
# A secret that is not in the environment is generated once into CLONUS_DATA_DIR (readable by this user only)
# and reused on the next run; it reaches the processes through the environment, never a command line.
secret() {
  local name=$1 file=$CLONUS_DATA_DIR/$2
  if [ -z "${!name:-}" ]; then
    if [ ! -s "$file" ]; then
      .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' > "$file"
      echo "$name not set: generated one in $file"
    fi
    chmod 600 "$file"
    export "$name=$(cat "$file")"
  fi
}
