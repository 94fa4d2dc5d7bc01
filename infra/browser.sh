#!/usr/bin/env bash
# The browser of the browser tests: Debian's chromium, with CJK fonts so that
# the Chinese pages render, driven by Playwright through its executablePath.
# Usage: infra/browser.sh ensure   (installs with apt when missing; needs root)
# Playwright's own browser download is never used.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CHROMIUM="${ZONGZHI_CHROMIUM:-/usr/bin/chromium}"

have_all() {
  [[ -x "$CHROMIUM" ]] && fc-list :lang=zh 2>/dev/null | grep -qi "Noto Sans CJK"
}

cmd_ensure() {
  have_all && return 0
  [[ "$(id -u)" == 0 ]] || zz_die "the browser tests need $CHROMIUM and fonts-noto-cjk; install them as root: apt-get install -y chromium fonts-noto-cjk"
  zz_log "installing chromium and fonts-noto-cjk with apt (first time)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >&2; } \
    || zz_die "apt-get could not install chromium and fonts-noto-cjk"
  have_all || zz_die "chromium is not at $CHROMIUM after the install; set ZONGZHI_CHROMIUM to its path"
}

case "${1:-}" in
  ensure) cmd_ensure ;;
  *) zz_die "usage: infra/browser.sh ensure (got '${1:-}')" ;;
esac
