#!/usr/bin/env bash
# Checks that the linux-arm64 self-contained build starts and validates configurations, on an x64 machine:
# publishes for linux-arm64, then runs `gateway check-config` under qemu-user on a good configuration
# (the Pi example: gpio and i2c drivers load on arm64) and on a broken one, and checks the exit codes 0 and 2.
# Needs: qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross (test.sh installs them).
# Usage: tests/arm64/check.sh [PUBLISH_DIR]   (default artifacts/linux-arm64; reused between runs)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/artifacts/linux-arm64}
sysroot=/usr/aarch64-linux-gnu

qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -z "$qemu" ] || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
  echo "arm64 check: needs qemu-user-static and the arm64 cross libraries (apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross)" >&2
  exit 1
fi

echo "arm64 check: publishing linux-arm64 self-contained to $out"
dotnet publish "$repo/src/Gateway" -c Release -r linux-arm64 --self-contained -o "$out" -nologo -v quiet

# The ELF machine of the executable must be AArch64 (0xB7), not the build machine's.
machine=$(od -An -t x2 -j 18 -N 2 "$out/gateway" | tr -d ' ')
if [ "$machine" != "00b7" ]; then
  echo "arm64 check: $out/gateway is not an AArch64 executable (e_machine 0x$machine)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$repo/config/examples/agro-food-packaging.json" "$work/good.json"
cat > "$work/bad.json" <<'JSON'
{
  "gateway": { "id": "pi-1", "enterprise": "acme", "site": "lyon", "area": "packaging", "line": "line-2" },
  "drivers": [
    { "name": "io", "type": "gpio", "tags": [ { "name": "parts", "address": "pin:seventeen", "mode": "counter" } ] },
    { "name": "env", "type": "i2c", "sensor": "bme281", "tags": [] }
  ],
  "buffer": { "path": "data/buffer.db" }
}
JSON

run() {
  # Invariant globalization: the arm64 ICU is not in the cross sysroot.
  (cd "$work" && DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$qemu" -L "$sysroot" "$out/gateway" check-config "$1")
}

set +e
run good.json > "$work/good.out" 2> "$work/good.err"
good=$?
run bad.json > "$work/bad.out" 2> "$work/bad.err"
bad=$?
set -e

status=0
if [ "$good" -ne 0 ]; then
  echo "arm64 check: FAIL: check-config on a good configuration exited $good (expected 0)" >&2
  cat "$work/good.out" "$work/good.err" >&2
  status=1
else
  echo "arm64 check: good configuration: exit 0: $(cat "$work/good.out")"
fi

if [ "$bad" -ne 2 ] || ! grep -q '^drivers\[0\]\.tags\[0\]\.address: ' "$work/bad.err" || ! grep -q '^drivers\[1\]\.sensor: ' "$work/bad.err"; then
  echo "arm64 check: FAIL: check-config on a broken configuration exited $bad (expected 2 with the JSON paths)" >&2
  cat "$work/bad.out" "$work/bad.err" >&2
  status=1
else
  echo "arm64 check: broken configuration: exit 2:"
  sed 's/^/  /' "$work/bad.err"
fi

[ "$status" -eq 0 ] && echo "arm64 check: OK"
exit "$status"
