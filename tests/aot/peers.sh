#!/usr/bin/env bash
# tests/aot/peers.sh GATEWAY_EXECUTABLE
# The native AOT build against the real peers (./test.sh calls it after smoke.sh): what full trimming breaks shows at
# run time only, in code the default config never reaches. So the binary reads, on free loopback ports:
#   - the node-opcua peer (tests/peers/opcua/server.mjs) over Basic256Sha256 SignAndEncrypt with user gwuser (a
#     subscription: a Double that changes, a Float array, a custom structure decoded from its DataTypeDefinition);
#   - the snap7 peer (tests/peers/s7/server.js): REAL, DINT, a bit and a STRING from DB1;
#   - and publishes them as Sparkplug B to mosquitto, decoded by Eclipse Tahu (tests/peers/sparkplug/decode.cjs).
# plus the CLI verbs `opcua browse`, `opcua read` and `s7 read`. One line per check, "ok <name>" or
# "FAIL <name>: <why>", then "N passed, N failed"; exit 0 when every check passed. Needs node, mosquitto,
# mosquitto_sub, curl and python3 (./test.sh installs them and the peers' node_modules).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
PEERS=$(cd "$HERE/../peers" && pwd)
HTTP=$(free_port); MQTT=$(free_port); UA=$(free_port); S7=$(free_port)
BASE=http://127.0.0.1:$HTTP
URL=opc.tcp://127.0.0.1:$UA

# The peers: the OPC UA server on its own PKI folder (it accepts unknown client certificates by default), snap7, mosquitto.
(cd "$PEERS/opcua" && exec node server.mjs "$UA" --pki "$WORK/pki-server") > "$WORK/opcua.log" 2>&1 & PIDS+=($!)
(cd "$PEERS/s7" && exec node server.js "$S7") > "$WORK/s7.log" 2>&1 & PIDS+=($!)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQTT" > "$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 & PIDS+=($!)
wait_for "$WORK/opcua.log" "OPC UA server ready" 60 || fail opcua-peer "$(tail -3 "$WORK/opcua.log")"
wait_for "$WORK/s7.log" "listening" 30 || fail s7-peer "$(tail -3 "$WORK/s7.log")"
printf 'gwpass' > "$WORK/ua-password"; chmod 600 "$WORK/ua-password"

# The CLI verbs.
UAOPT=(--security Basic256Sha256 --mode SignAndEncrypt --user gwuser --password-file "$WORK/ua-password" --pki "$WORK/pki-cli" --trust-on-first-use)
"$GW" opcua browse "$URL" --node i=85 --depth 2 "${UAOPT[@]}" > "$WORK/browse.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "Temperature" "$WORK/browse.txt" && grep -q "Setpoint" "$WORK/browse.txt"; then ok cli-opcua-browse; else fail cli-opcua-browse "exit $rc: $(head -5 "$WORK/browse.txt")"; fi
"$GW" opcua read "$URL" "ns=1;s=Types.FloatArray" "ns=1;s=Structures.Motor" "${UAOPT[@]}" > "$WORK/read.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q -- "-2.25" "$WORK/read.txt" && grep -q "Speed" "$WORK/read.txt"; then ok cli-opcua-read; else fail cli-opcua-read "exit $rc: $(head -5 "$WORK/read.txt")"; fi
"$GW" s7 read "127.0.0.1:$S7" --rack 0 --slot 1 DB1.DBD14 --type real > "$WORK/s7read.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "22.1" "$WORK/s7read.txt"; then ok cli-s7-read; else fail cli-s7-read "exit $rc: $(head -5 "$WORK/s7read.txt")"; fi

# The service: both drivers, Sparkplug B north.
cat > "$WORK/gateway.json" <<EOF
{
  "gateway": { "id": "aot-peers", "enterprise": "acme", "site": "lyon", "area": "assembly", "line": "line-1" },
  "drivers": [
    {
      "name": "cnc", "type": "opcua", "endpointUrl": "$URL",
      "securityPolicy": "Basic256Sha256", "securityMode": "SignAndEncrypt", "trustServerCertificate": "tofu",
      "pkiDirectory": "$WORK/pki", "username": "gwuser", "passwordFile": "$WORK/ua-password",
      "mode": "subscription", "publishingIntervalMs": 200, "samplingIntervalMs": 100, "machine": "cnc",
      "tags": [
        { "name": "temperature", "address": "ns=1;s=Machine1.Temperature", "unit": "degC" },
        { "name": "floats", "address": "ns=1;s=Types.FloatArray" },
        { "name": "motor", "address": "ns=1;s=Structures.Motor" }
      ]
    },
    {
      "name": "press-plc", "type": "s7", "host": "127.0.0.1", "port": $S7, "rack": 0, "slot": 1, "intervalMs": 200,
      "machine": "press",
      "tags": [
        { "name": "tonnage", "address": "DB1.DBD14", "type": "real", "unit": "t" },
        { "name": "count", "address": "DB1.DBD6", "type": "dint" },
        { "name": "lube-ok", "address": "DB1.DBX0.0" },
        { "name": "die-id", "address": "DB1.STRING26.20" }
      ]
    }
  ],
  "buffer": { "path": "$WORK/buffer.db", "maxBytes": 67108864, "flushIntervalMs": 100 },
  "mqtt": { "host": "127.0.0.1", "port": $MQTT, "format": "sparkplugb", "qos": 1 },
  "http": { "urls": "$BASE" }
}
EOF
if "$GW" check-config "$WORK/gateway.json" > "$WORK/check.txt" 2>&1; then ok check-config-peers; else fail check-config-peers "$(head -3 "$WORK/check.txt")"; fi
mosquitto_sub -h 127.0.0.1 -p "$MQTT" -t 'spBv1.0/#' -q 1 -W 30 -F '%t %x' > "$WORK/spb.txt" 2>&1 & SUB=$!; PIDS+=($SUB)
sleep 0.3
(cd "$WORK" && exec "$GW" run --config "$WORK/gateway.json") > "$WORK/gateway.log" 2>&1 & GWPID=$!; PIDS+=($GWPID)
wait_for "$WORK/gateway.log" "connected to MQTT broker" 30 || fail start "$(grep -m3 -E '^(fail|crit)|Exception' "$WORK/gateway.log")"

# /api/tags: every tag Good with its value (so both drivers decoded under AOT).
tags_ok=""
for _ in $(seq 150); do
  curl -s "$BASE/api/tags" > "$WORK/tags.json" 2>/dev/null
  if python3 - "$WORK/tags.json" > "$WORK/tags-check.txt" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
tags = {t["tag"]: t for t in (doc["tags"] if isinstance(doc, dict) else doc)}
want = {"cnc/temperature": lambda v: isinstance(v, (int, float)),
        "cnc/floats": lambda v: v == [0.5, -2.25, 3.125],
        "cnc/motor": lambda v: isinstance(v, dict) and "Speed" in v and isinstance(v.get("Position"), dict),
        "press/tonnage": lambda v: abs(v - 22.1) < 1e-5,
        "press/count": lambda v: v == -123456789,
        "press/lube-ok": lambda v: v is True,
        "press/die-id": lambda v: v == "Hello S7"}
bad = [f"{k}: {tags.get(k)}" for k, check in want.items()
       if k not in tags or tags[k].get("quality") != "Good" or not check(tags[k].get("value"))]
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY
  then tags_ok=1; break; fi
  sleep 0.2
done
if [ -n "$tags_ok" ]; then ok opcua-and-s7-tags-good; else fail opcua-and-s7-tags-good "$(head -c 600 "$WORK/tags-check.txt")"; fi

# Sparkplug: NBIRTH, DBIRTHs naming the tags (the S7 values are constant: birth only), DDATA of the changing OPC UA
# temperature; decoded by Tahu.
for _ in $(seq 100); do grep -qE "/DBIRTH/[^/ ]+/press " "$WORK/spb.txt" && grep -qE "/DDATA/[^/ ]+/cnc " "$WORK/spb.txt" && break; sleep 0.2; done
kill -TERM $SUB 2>/dev/null; wait $SUB 2>/dev/null
python3 -c '
import base64, sys
for line in open(sys.argv[1]):
    p = line.rstrip("\n").split(" ", 1)
    try:
        if len(p) == 2: print(p[0], base64.b64encode(bytes.fromhex(p[1])).decode())
    except ValueError:
        pass  # not a message line
' "$WORK/spb.txt" > "$WORK/spb.b64"
(cd "$PEERS/sparkplug" && node decode.cjs) < "$WORK/spb.b64" > "$WORK/spb.json" 2> "$WORK/decode.err"
if python3 - "$WORK/spb.json" > "$WORK/spb-check.txt" 2>&1 <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
kind = lambda m: m.get("topic", "").split("/")[2] if m.get("topic", "").count("/") >= 3 else ""
births = [m for m in msgs if kind(m) == "DBIRTH"]
names = {x.get("name") for m in births for x in m.get("payload", m).get("metrics", [])}
problems = []
if not any(kind(m) == "NBIRTH" for m in msgs): problems.append("no NBIRTH")
for n in ("temperature", "floats", "tonnage", "count", "lube-ok", "die-id"):
    if not any(x and x.endswith(n) for x in names): problems.append(f"no birth metric {n} in {sorted(x for x in names if x)}")
tonnage = [x.get("value") for m in births for x in m["payload"].get("metrics", []) if (x.get("name") or "").endswith("tonnage")]
if not tonnage or abs(float(tonnage[0]) - 22.1) > 1e-5: problems.append(f"tonnage in DBIRTH: {tonnage}")
if not any(kind(m) == "DDATA" and m["topic"].endswith("/cnc") for m in msgs): problems.append("no DDATA of cnc (its temperature changes every 100 ms)")
print("; ".join(problems) or f"{len(msgs)} messages"); sys.exit(1 if problems else 0)
PY
then ok sparkplug-decoded-by-tahu; else fail sparkplug-decoded-by-tahu "$(head -c 600 "$WORK/spb-check.txt") $(head -c 200 "$WORK/decode.err")"; fi

kill -TERM $GWPID; wait $GWPID; rc=$?
if [ $rc -eq 0 ] && ! grep -qE '^(fail|crit):' "$WORK/gateway.log"; then ok clean-stop-peers; else fail clean-stop-peers "exit $rc; $(grep -m3 -A3 -E '^(fail|crit):' "$WORK/gateway.log")"; fi

finish
