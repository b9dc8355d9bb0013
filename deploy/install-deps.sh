#!/usr/bin/env bash
# Installs BitRouter's build and test dependencies from Debian 12 packages.
# Idempotent: packages already present are skipped by apt; safe to re-run.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libuv1-dev node-llhttp libssl-dev libyaml-cpp-dev libsimdjson-dev rapidjson-dev
  libsqlite3-dev libre2-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl ca-certificates openssl
  clang libclang-rt-14-dev libfuzzer-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
