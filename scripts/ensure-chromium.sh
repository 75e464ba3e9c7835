#!/usr/bin/env bash
# Installs Debian's Chromium for the report's browser test, when it is missing.
set -euo pipefail
command -v chromium >/dev/null && exit 0
echo "[chromium] installing Debian's chromium (first run only)" >&2
command -v apt-get >/dev/null || { echo "[chromium] ERROR: apt-get missing; install chromium" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null 2>&1 \
  || { echo "[chromium] ERROR: apt-get install chromium failed" >&2; exit 1; }
