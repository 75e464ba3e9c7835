#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the browser tests (the report page, the
# portal through Selenium), when they are missing.
set -euo pipefail
command -v chromium >/dev/null && command -v chromedriver >/dev/null && exit 0
echo "[chromium] installing Debian's chromium (first run only)" >&2
command -v apt-get >/dev/null || { echo "[chromium] ERROR: apt-get missing; install chromium" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk >/dev/null 2>&1 \
  || { echo "[chromium] ERROR: apt-get install chromium failed" >&2; exit 1; }
