#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing.
# Usage: ensure-system-packages.sh [COMMAND=PACKAGE ...]   e.g. redis-server=redis-server
# A check is either a command on PATH or, for python modules, "py:MODULE".
set -euo pipefail

missing=()
for pair in "$@"; do
  check=${pair%%=*}
  package=${pair#*=}
  case "$check" in
    py:*) /usr/bin/python3 -c "import ${check#py:}" 2>/dev/null && continue ;;
    # Daemons such as nginx live in /usr/sbin, which a non-root PATH may lack.
    *) { command -v "$check" || [ -x "/usr/sbin/$check" ]; } >/dev/null 2>&1 && continue ;;
  esac
  missing+=("$package")
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing system packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }

# Debian's prometheus package is installed for promtool only. Where systemd runs, the package also
# starts a Prometheus server on port 9090 (the admin port of `make run`): stop and disable it.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || echo "note: could not stop the prometheus service started by the package" >&2
fi
