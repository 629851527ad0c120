#!/usr/bin/env bash
# Install the PostgreSQL server the SingleView store tests run against: Debian's postgresql.
# Idempotent: does nothing when /usr/lib/postgresql/<version>/bin/initdb exists. The tests start
# their own server from these binaries (exchange/localpg.py) in a temporary folder on a free port;
# the Debian package's own cluster service is not used.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "install-postgres: $(ls -d /usr/lib/postgresql/*/bin | tail -1) is present"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-postgres: error: PostgreSQL server binaries are missing and this is not a Debian-like system" >&2
  echo "install-postgres: what to do: install PostgreSQL 13+ so that /usr/lib/postgresql/<v>/bin/initdb exists" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-postgres: error: need root or sudo to install postgresql" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-postgres: installing Debian's postgresql (once)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
echo "install-postgres: $(ls -d /usr/lib/postgresql/*/bin | tail -1) installed"
