# tests/aot/lib.sh: what smoke.sh and peers.sh share (sourced, not run). Checks the executable given as $1, makes
# the scratch folder $WORK, counts the checks (ok NAME, fail NAME WHY), stops every process put in PIDS and removes
# $WORK on exit, and prints the last line "N passed, N failed" (finish, whose status is 0 when every check passed).
GW=$(readlink -f "${1:?usage: $(basename "$0") GATEWAY_EXECUTABLE}")
[ -x "$GW" ] || { echo "FAIL publish: no executable $GW"; echo "0 passed, 1 failed"; exit 1; }
WORK=$(mktemp -d)
passed=0; failed=0; PIDS=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
wait_for() {  # wait_for FILE PATTERN SECONDS
  for _ in $(seq $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1
}
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
