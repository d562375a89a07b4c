#!/bin/sh
# Installs the Debian packages wafer builds and tests with; does nothing when all are present.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev libfmt-dev libspdlog-dev \
libcli11-dev libboost1.81-dev libboost-json1.81-dev libsqlite3-dev libxxhash-dev libpcre2-dev \
libgtest-dev libgmock-dev libbenchmark-dev python3 curl nodejs"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# nodejs runs the end-to-end tests' real clients (openai SDK, Codex CLI); Debian's own package
# or NodeSource's (which bundles npm) both do; Debian's needs its separate npm package.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "wafer: installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends $missing || {
  $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends $missing
}
