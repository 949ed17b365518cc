#!/usr/bin/env bash
# System packages that some tests need and a fresh machine lacks (Debian, as root):
#   dbus + gnome-keyring  tests/test_keyring_real.py (a real Secret Service on a D-Bus session)
#   zsh, fish             tests/test_docgen.py, tests/test_shell_install.py (completion in the real shells)
#   man-db, groff-base    tests/test_docgen.py (pages render cleanly), tests/test_shell_install.py (man -w)
# Idempotent: installs only what is missing. Without these the tests skip, saying why;
# .ci/run sets MCLI_REQUIRE_SYSTEM_TESTS=1 so that in CI such a skip fails instead.
set -euo pipefail

need=()
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus dbus-daemon)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
command -v man >/dev/null 2>&1 || need+=(man-db)
command -v groff >/dev/null 2>&1 || need+=(groff-base)
[ "${#need[@]}" -eq 0 ] && { echo "system-deps: all present"; exit 0; }

if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: need root to apt-get install ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# dbus-daemon is its own package on bookworm and later; older releases ship it in dbus.
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || apt-get install -y -qq --no-install-recommends "${need[@]/dbus-daemon/}" >/dev/null
echo "system-deps: installed ${need[*]}"
