#!/usr/bin/env bash
# Install the openssl command line tool: docs/runtime.md makes trial certificates with it and a test
# runs those documented commands. Idempotent: does nothing when `openssl` is already on PATH (it
# usually is: Debian's ca-certificates, which the JDK pulls in, depends on it).
set -euo pipefail

if command -v openssl >/dev/null; then
  echo "install-openssl: $(openssl version) is present"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-openssl: error: openssl is missing and this is not a Debian-like system" >&2
  echo "install-openssl: what to do: install the openssl command line tool" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-openssl: error: need root or sudo to install openssl" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-openssl: installing Debian's openssl"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl >/dev/null
echo "install-openssl: $(openssl version) installed"
