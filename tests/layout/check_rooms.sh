#!/usr/bin/env bash
# The worker's rooms (worker/CMakeLists.txt, README "Inside a worker"): a
# room includes only itself and the rooms below it, and shared/ includes
# neither worker/ nor controld/. Fails naming each include that runs upward.
set -euo pipefail
cd "$(dirname "$0")/../.."

declare -A allowed=(
  [loop]="loop"
  [usage]="usage"
  [snapshot]="snapshot"
  [upstream]="upstream snapshot loop"
  [http]="http upstream snapshot loop"
  [control]="control snapshot usage loop"
  [stages]="stages http snapshot usage loop"
  [mcp]="mcp http upstream snapshot loop usage"
  [proxy]="proxy mcp stages http upstream snapshot usage loop"
)
bad=0
for room in "${!allowed[@]}"; do
  [[ -d worker/$room ]] || { echo "missing room worker/$room"; bad=1; continue; }
  while IFS= read -r line; do
    file=${line%%:*}
    target=$(sed -E 's/.*#include "worker\/([a-z_]+)\/.*/\1/' <<<"$line")
    if [[ " ${allowed[$room]} " != *" $target "* ]]; then
      echo "upward include: $line"
      bad=1
    fi
  done < <(grep -rn '#include "worker/' "worker/$room" || true)
done
# Nothing left in the flat worker/ folder but the composition root.
shopt -s nullglob
for f in worker/*.cc worker/*.h; do
  [[ $f == worker/main.cc ]] || { echo "file outside a room: $f"; bad=1; }
done
if grep -rn '#include "\(worker\|controld\)/' shared; then
  echo "shared/ must not include worker/ or controld/"
  bad=1
fi
((bad == 0)) && echo "rooms: every include runs downward"
exit "$bad"
