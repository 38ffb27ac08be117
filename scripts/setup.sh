#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for edge-agent: installs the system tools the agent and its
# tests use (scripts/system-packages.txt) when missing, checks Node.js, then `npm ci`.
#   scripts/setup.sh           install what is missing, then npm ci
#   scripts/setup.sh --check   only say what is missing (exit 1 if anything is)
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=false
case "${1:-}" in
  --check) check_only=true ;;
  '') ;;
  *) echo "usage: scripts/setup.sh [--check]" >&2; exit 2 ;;
esac

# mosquitto lives in /usr/sbin, which a normal user's PATH may not have.
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing_tools=()
missing_packages=()
while read -r tool packages; do
  packages="${packages%%#*}"
  have "$tool" && continue
  missing_tools+=("$tool")
  for p in $packages; do missing_packages+=("$p"); done
done < <(grep -vE '^\s*(#|$)' scripts/system-packages.txt)

if ((${#missing_tools[@]})); then
  echo "setup: missing ${missing_tools[*]} (Debian packages: ${missing_packages[*]})"
  if $check_only; then exit 1; fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root, or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || {
    echo "setup: no apt-get here; install these packages with your system's package manager: ${missing_packages[*]}" >&2
    exit 1
  }
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing_packages[@]}"
else
  echo "setup: every system tool is present"
fi

required_node=20.19
node_version="$(node --version 2>/dev/null || true)"
if [ -z "$node_version" ]; then
  echo "setup: node not found; install Node.js >= $required_node" >&2; exit 1
fi
if ! node -e "const [a,b]=process.versions.node.split('.').map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)"; then
  echo "setup: Node.js $node_version is too old; edge-agent needs >= $required_node" >&2; exit 1
fi
$check_only && exit 0

npm ci
echo "setup: done. Next: npm start (the agent on the simulated board) or npm test (the whole suite)"
