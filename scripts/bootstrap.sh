#!/usr/bin/env bash
# Installs what hexaops needs on a fresh Debian machine (root, Python 3.11): uv, then the
# locked environment in .venv. Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail

export UV_PYTHON_DOWNLOADS=never   # use the machine's Python 3.11, never download one
export UV_LINK_MODE=copy

ensure_uv() {
  if command -v uv >/dev/null 2>&1; then
    UV=(uv)
    return
  fi
  if python3 -m uv --version >/dev/null 2>&1; then
    UV=(python3 -m uv)
    return
  fi
  echo "==> installing uv" >&2
  if ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null
  fi
  python3 -m pip install --quiet uv 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages uv
  if command -v uv >/dev/null 2>&1; then UV=(uv); else UV=(python3 -m uv); fi
}

# sync_env [extra uv sync args...]: the locked environment in .venv
sync_env() {
  ensure_uv
  echo "==> syncing .venv from uv.lock" >&2
  "${UV[@]}" sync --frozen --python python3.11 "$@"
}

# ensure_apt PACKAGE COMMAND...: install a Debian package unless all its commands exist.
ensure_apt() {
  local package=$1 missing=0 cmd
  shift
  for cmd in "$@"; do command -v "$cmd" >/dev/null 2>&1 || missing=1; done
  if [ "$missing" = 0 ]; then return; fi
  echo "==> installing $package (Debian)" >&2
  apt-get update -qq
  # A policy-rc.d keeps packages from starting system services; tests start their own.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
  if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
