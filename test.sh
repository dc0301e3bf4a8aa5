#!/usr/bin/env bash
# Runs every test of the gateway on a fresh Debian or Ubuntu machine with the .NET 10 SDK:
# installs the peers the tests talk to (mosquitto, rabbitmq-server, aedes, pymodbus, mbpoll, socat, influxd, node-opcua, chromium,
# qemu-user), builds,
# runs the whole suite, and ends with one line: "N passed, N failed, N skipped". The native AOT build is published in
# the background while the suite runs (from a copy of the tree: its build must not touch the bin/ the tests load),
# then tests/aot/smoke.sh and tests/aot/peers.sh run it; their checks count in that line. GATEWAY_TEST_AOT=0 leaves it out.
set -euo pipefail
cd "$(dirname "$0")"

sudo_if_needed() { if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi; }

# influxdb: Debian's influxd 1.x for the InfluxDB output tests.
# chromium: the dashboard tests drive Debian's browser through Microsoft.Playwright (no browser download).
# qemu-user-static and the arm64 cross libraries run the linux-arm64 build (tests/arm64/check.sh).
# faketime (libfaketime) steps the wall clock of a running gateway (Integration/ClockStepProcessTests.cs).
# build-essential and python3: node-gyp compiles node-snap7's native addon (the S7 peer, tests/peers/s7) on npm ci.
# rabbitmq-server: RabbitMQ 3.10 and its MQTT plugin, a broker that speaks MQTT 3.1.1 only (Integration/OtherBrokersTests.cs);
# the tests run their own node on free loopback ports (Infrastructure/TestBrokers.cs), never the system service.
packages=(mosquitto mosquitto-clients rabbitmq-server python3-pymodbus python3-serial-asyncio mbpoll socat influxdb chromium faketime
  qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross build-essential python3)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing test peers: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The OPC UA peer (node-opcua), the S7 peer (node-snap7), the Sparkplug decoder (Tahu) and the aedes broker, pinned by
# their committed lockfiles.
for peer in tests/peers/*/; do
  if [ -f "$peer/package-lock.json" ] && [ ! -d "$peer/node_modules" ]; then
    (cd "$peer" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

results=$(mktemp -d)
aot_pid=""
trap '[ -n "$aot_pid" ] && kill "$aot_pid" 2>/dev/null; rm -rf "$results"' EXIT
dotnet build Gateway.sln -c Release -nologo -v quiet
if [ "${GATEWAY_TEST_AOT:-1}" != 0 ]; then
  mkdir -p "$results/aot-src"
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$results/aot-src/"
  # nice: the suite's timing-sensitive integration tests keep their CPU; the publish takes what is left.
  (cd "$results/aot-src" && nice -n 10 dotnet publish src/Gateway -c Release -r linux-x64 -p:PublishAot=true -o "$results/aot" -nologo -v quiet \
    > "$results/aot-publish.log" 2>&1) &
  aot_pid=$!
fi
set +e
dotnet test src/Gateway.Tests -c Release --no-build --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
status=$?
set -e

trx="$results/results.trx"
if [ ! -f "$trx" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
value() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
passed=$(value passed)
failed=$(( $(value failed) + $(value error) + $(value timeout) + $(value aborted) ))
skipped=$(value notExecuted)
if [ -n "$aot_pid" ]; then
  set +e  # the smoke test's and grep's exit codes are read, not fatal
  wait "$aot_pid"; aot_status=$?; aot_pid=""
  if [ "$aot_status" -ne 0 ]; then
    echo "AOT publish failed:"; grep -E "error|Error" "$results/aot-publish.log" | head -20
    failed=$((failed + 1))
  else
    # smoke.sh: the default config (simulated line, embedded broker, dashboard); peers.sh: OPC UA with security, S7
    # and Sparkplug B against the real peers, and the CLI verbs.
    for check in smoke peers; do
      aot_line=$(bash "tests/aot/$check.sh" "$results/aot/gateway" | tee "$results/aot-$check.txt" | tail -1)
      grep '^FAIL' "$results/aot-$check.txt" || true
      echo "AOT $check test: $aot_line"
      if [[ "$aot_line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
      else
        failed=$((failed + 1))
      fi
    done
  fi
  set -e
fi
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
  exit 1
fi
