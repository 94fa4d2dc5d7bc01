#!/usr/bin/env bash
# Create or update the project's venv (.venv in the checkout) from the pinned
# requirements, and install the checkout into it in editable mode. Idempotent:
# an unchanged requirements file and setup.cfg skip the install.
# Prints the venv's python path on stdout.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

VENV="${ZONGZHI_VENV:-$ZONGZHI_ROOT/.venv}"
REQ="$ZONGZHI_ROOT/infra/python/requirements.txt"
STAMP="$VENV/.zongzhi-installed"
want="$(zz_hash_files "$REQ" "$ZONGZHI_ROOT/setup.cfg")-$ZONGZHI_ROOT"

zz_require_python311
if [[ ! -x "$VENV/bin/python" ]]; then
  zz_log "creating venv $VENV"
  "${ZONGZHI_PYTHON:-python3}" -m venv "$VENV" || zz_die "could not create a venv at $VENV"
fi
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
  zz_log "installing pinned Python dependencies into $VENV (first time takes a few minutes)"
  zz_pip_install "$VENV/bin/python" -r "$REQ" >&2 \
    || zz_die "pip could not install infra/python/requirements.txt into $VENV"
  zz_pip_install "$VENV/bin/python" --no-deps --no-build-isolation -e "$ZONGZHI_ROOT" >&2 \
    || zz_die "pip could not install the zongzhi checkout into $VENV"
  echo "$want" > "$STAMP"
fi
echo "$VENV/bin/python"
