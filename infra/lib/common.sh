# Shared shell helpers for the infra scripts. Source it; do not run it.
# Paths:
#   ZONGZHI_ROOT   the checkout (derived from this file's location)
#   ZONGZHI_VAR    runtime state: data dirs, logs, pids, secrets (default: $ZONGZHI_ROOT/var)
#   ZONGZHI_CACHE  installs shared by checkouts: venvs, jars, Kafka (default: ~/.cache/zongzhi)
set -euo pipefail

ZONGZHI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ZONGZHI_ROOT
export ZONGZHI_VAR="${ZONGZHI_VAR:-$ZONGZHI_ROOT/var}"
export ZONGZHI_CACHE="${ZONGZHI_CACHE:-$HOME/.cache/zongzhi}"
# Runtime state holds personal data (Kafka's raw topics, the lake) and
# secrets: whatever the services and scripts create there is their user's
# alone (folders 700, files 600). A state folder made before this rule is
# closed once, recursively.
umask 077
mkdir -p "$ZONGZHI_VAR/log" "$ZONGZHI_VAR/run" "$ZONGZHI_CACHE"
if [[ "$(stat -c %a "$ZONGZHI_VAR")" != 700 ]]; then
  chmod -R go-rwx "$ZONGZHI_VAR"
fi

zz_log() { printf '[zongzhi %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
zz_die() { printf 'zongzhi: %s\n' "$*" >&2; exit 1; }

# Read one value from the platform config with a tiny parser that needs no
# Python: "section.key" for the two-level keys the shell scripts use.
zz_config() {
  local path="$1" cfg="${ZONGZHI_CONFIG:-$ZONGZHI_ROOT/infra/config/zongzhi.yaml}"
  local section="${path%%.*}" key="${path#*.}"
  awk -v section="$section" -v key="$key" '
    /^[^ #][^:]*:/ { current=$1; sub(":$","",current) }
    current==section && $1==key":" { v=$0; sub(/^[^:]*:[ ]*/,"",v); sub(/[ ]+#.*$/,"",v); gsub(/^"|"$/,"",v); print v; exit }
  ' "$cfg"
}

zz_require_java17() {
  command -v java >/dev/null 2>&1 || zz_die "Java 17 is required but 'java' is not on PATH: install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)"
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  case "$v" in
    17|17.*) ;;
    *) zz_die "Java 17 is required but 'java' is version '$v': install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless) and put it first on PATH" ;;
  esac
  export JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
}

zz_require_maven() {
  command -v mvn >/dev/null 2>&1 || zz_die "Maven is required but 'mvn' is not on PATH: install Maven 3.8+ (Debian: apt-get install maven)"
}

zz_require_python311() {
  local py="${ZONGZHI_PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || zz_die "Python 3.11 is required but '$py' is not on PATH"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2]==(3,11) else 1)' \
    || zz_die "Python 3.11 is required but '$py' is $("$py" -V 2>&1); set ZONGZHI_PYTHON to a 3.11 interpreter"
}

# Hash of files, used to key cached installs so that a changed lock file
# builds a fresh venv while an unchanged one is reused.
zz_hash_files() { cat "$@" | sha256sum | cut -c1-16; }

# Wait until a command succeeds, or fail naming what did not come up.
zz_wait_for() {
  local what="$1" timeout="$2"; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start > timeout )); then
      zz_die "$what did not become healthy within ${timeout}s (see $ZONGZHI_VAR/log)"
    fi
    sleep 1
  done
}

# Whether an HTTP GET of a URL answers 200 within 3 s.
zz_http_ok() {
  python3 - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
}

zz_pid_alive() { local f="$1"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

zz_stop_pidfile() {
  local name="$1" f="$2"
  if zz_pid_alive "$f"; then
    local pid; pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    zz_log "$name stopped"
  fi
  rm -f "$f"
}

# Everything a Python entry point needs: prerequisites checked, the venv and
# the JVM jars installed (once). Prints the venv's python.
zz_prepare() {
  zz_require_java17
  zz_require_maven
  zz_require_python311
  local py
  py="$(bash "$ZONGZHI_ROOT/infra/venv.sh")" || exit 1
  bash "$ZONGZHI_ROOT/infra/jars.sh" resolve || exit 1
  echo "$py"
}

# uv installs the pinned locks several times faster than pip (parallel
# downloads and unpacking, no resolver run for a full lock). It is a pinned
# wheel from PyPI itself, kept in the cache; where it cannot be installed,
# pip does the work. pip's own settings for the index (a certificate file,
# a local wheel folder) are passed on.
ZZ_UV_VERSION=0.13.10
zz_uv() {
  local home="$ZONGZHI_CACHE/tools/uv-$ZZ_UV_VERSION"
  [[ -x "$home/bin/uv" ]] && { echo "$home/bin/uv"; return 0; }
  mkdir -p "$ZONGZHI_CACHE/tools"
  (
    flock 8
    if [[ ! -x "$home/bin/uv" ]]; then
      rm -rf "$home"
      "${ZONGZHI_PYTHON:-python3}" -m venv "$home" \
        && "$home/bin/python" -m pip install -q --disable-pip-version-check "uv==$ZZ_UV_VERSION" \
        || { rm -rf "$home"; exit 1; }
    fi
  ) 8>"$home.lock" >&2 || return 1
  echo "$home/bin/uv"
}

# zz_pip_install PYTHON ARGS...: pip-install ARGS into PYTHON's venv, with uv when it can be had.
zz_pip_install() {
  local python="$1" uv
  shift
  if uv="$(zz_uv)"; then
    [[ -n "${PIP_CERT:-}" && -z "${SSL_CERT_FILE:-}" ]] && export SSL_CERT_FILE="$PIP_CERT"
    [[ -n "${PIP_FIND_LINKS:-}" && -d "$PIP_FIND_LINKS" ]] && export UV_FIND_LINKS="$PIP_FIND_LINKS"
    "$uv" pip install --quiet --python "$python" "$@"
  else
    zz_log "uv could not be installed; installing with pip (slower)"
    "$python" -m pip install -q --disable-pip-version-check --no-input "$@"
  fi
}
