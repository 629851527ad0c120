#!/usr/bin/env bash
# Install the headless browser the page tests drive: Debian's chromium at /usr/bin/chromium.
# Idempotent: does nothing when /usr/bin/chromium is already there. Playwright's own browser
# download is not used (its download site is unreachable from CI); tests launch this binary.
# Needs root (CI runs as root) or sudo when chromium is missing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-browser: /usr/bin/chromium is present"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-browser: error: /usr/bin/chromium is missing and this is not a Debian-like system" >&2
  echo "install-browser: what to do: install Chromium so that /usr/bin/chromium exists" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-browser: error: need root or sudo to install chromium" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-browser: installing Debian's chromium (about a minute, once)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium
echo "install-browser: /usr/bin/chromium installed"
