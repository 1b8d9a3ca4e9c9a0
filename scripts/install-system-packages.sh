#!/usr/bin/env bash
# Installs the Debian packages Lantern builds against (used by the README's quick start and by CI).
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y $(cat apt-packages.txt)
