# The health server of `watch --metrics-bind-address` against hostile clients (issue 26): the
# real binary, with tests/e2e/tools/hostile_clients.py as the clients and the probe.

# vm_kib PID FIELD: a figure of /proc/PID/status in KiB (VmRSS, VmHWM).
vm_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

test_metrics_server_answers_probes_while_hostile_clients_stall() {
  local a b pid port before peak result
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  start_watch "$a" "$b" --name app-config --metrics-bind-address 127.0.0.1:0
  pid=$(cat "$T/watch.pid")
  wait_for 20 grep -q 'serving /healthz' "$T/watch.err"
  port=$(sed -n 's/.*serving \/healthz.*(port \([0-9]*\)).*/\1/p' "$T/watch.err" | head -n 1)
  wait_for 20 key_is "$b" app-config k v
  before=$(vm_kib "$pid" VmHWM)
  # 200 half-sent requests held, a 64 MiB header, 50 probes on new connections meanwhile
  result=$(python3 "$CMSYNC_SOURCE_DIR/tests/e2e/tools/hostile_clients.py" "$port" 200 64 50)
  peak=$(vm_kib "$pid" VmHWM)
  echo "hostile clients: $result; watcher's peak RSS $before -> $peak KiB" |
    tee -a "${CMSYNC_E2E_FIGURES:-/dev/null}"
  expect_eq "$(jqv "$result" .failed)" 0 "failed probes"
  (( $(jqv "$result" '.max_ms | floor') < 1000 )) || fail "a probe took $(jqv "$result" .max_ms) ms"
  (( peak - before < 16384 )) || fail "the peak RSS grew by $((peak - before)) KiB"
  (( $(jqv "$result" .held_closed) >= 72 )) || fail "at most 128 connections: $result"
  expect_eq "$(curl -s "http://127.0.0.1:$port/healthz")" ok
  stop_watch INT
}
