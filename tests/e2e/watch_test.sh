# `kubectl cmsync watch` against the real apiserver, with faults (issue 5). Each test bounds its
# waits and stops what it started.

test_watch_source_update_reaches_all_targets() {
  local a targets=() start ms
  a=$(new_ns src)
  for i in $(seq 1 10); do targets+=("$(new_ns dst)"); done
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 --from-literal=other=1 >/dev/null
  start_watch "$a" "${targets[@]}" --name app-config
  for ns in "${targets[@]}"; do wait_for 20 key_is "$ns" app-config config.yaml v1; done
  for round in 1 2 3; do
    start=$(date +%s%N)
    k -n "$a" patch configmap app-config --type merge -p "{\"data\":{\"config.yaml\":\"v2-$round\"}}" >/dev/null
    for ns in "${targets[@]}"; do wait_for 20 key_is "$ns" app-config config.yaml "v2-$round"; done
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "watch propagation to 10 targets, round $round: ${ms} ms (includes kubectl polling)" | tee -a "${CMSYNC_E2E_FIGURES:-/dev/null}"
  done
  stop_watch INT
  expect_in "$(watch_log)" "stopped"
  # one write per target per change: 1 create + 3 updates, nothing echoed back
  local writes
  writes=$(jq -r --arg ns "${targets[0]}" 'select(.stage == "ResponseComplete" and .objectRef.namespace == $ns and .objectRef.resource == "configmaps" and (.verb == "create" or .verb == "update")) | .verb' "$CMSYNC_CLUSTER_DIR/audit.log" | sort | uniq -c | tr -s ' ' | paste -sd, -)
  expect_eq "$writes" " 1 create, 3 update" "writes to one target"
}

# -v 6 request lines for one copy since line MARK of the watcher's log: METHOD STATUS.
copy_requests() {  # mark ns
  tail -n "+$(($1 + 1))" "$T/watch.err" |
    grep -oE "(GET|PUT|POST) https://[^ ]+/namespaces/$2/configmaps(/app-config)?(\?fieldManager=kubectl-cmsync)? [0-9]{3}" |
    awk '{print $1, $3}' | paste -sd, -
}

# set_source_and_wait SRC VALUE TARGET...: sets app-config's config.yaml, waits for every copy.
set_source_and_wait() {
  local src=$1 value=$2 ns
  shift 2
  k -n "$src" patch configmap app-config --type merge -p "{\"data\":{\"config.yaml\":\"$value\"}}" >/dev/null
  for ns in "$@"; do wait_for 20 key_is "$ns" app-config config.yaml "$value"; done
  sleep 0.5  # and for the watcher's log
}

test_watch_source_change_is_one_put_per_copy_and_a_stale_copy_is_read_again() {
  local a b c mark
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  k -n "$c" create configmap app-config --from-literal=local=0 >/dev/null
  # Once armed, the hook changes c's copy right before the watcher writes it: the watcher's
  # cached copy is then stale, as when a change has not reached it yet. (The fault build runs
  # the hook inside the watcher, between its read and its write: lib.sh with_fault_hooks.)
  cat >"$T/race" <<RACE
#!/bin/sh
[ "\$CMSYNC_TARGET" = "$c/app-config" ] || exit 0
if [ -e "$T/armed" ]; then
  rm -f "$T/armed"
  kubectl --kubeconfig "$CMSYNC_ADMIN_KUBECONFIG" -n "$c" patch configmap app-config --type merge -p '{"data":{"local":"changed-by-other"}}' >/dev/null
elif [ -e "$T/armed-delete" ]; then
  rm -f "$T/armed-delete"
  kubectl --kubeconfig "$CMSYNC_ADMIN_KUBECONFIG" -n "$c" delete configmap app-config >/dev/null
fi
RACE
  chmod +x "$T/race"
  CMSYNC_TEST_BEFORE_WRITE="$T/race" with_fault_hooks start_watch "$a" "$b" "$c" --name app-config -v 6
  wait_for 20 key_is "$b" app-config config.yaml v1
  wait_for 20 key_is "$c" app-config config.yaml v1
  # A source change costs one PUT per copy and no read: the copies are known from the watch.
  mark=$(wc -l <"$T/watch.err")
  set_source_and_wait "$a" v2 "$b" "$c"
  expect_eq "$(copy_requests "$mark" "$b")" "PUT 200" "requests for $b's copy"
  expect_eq "$(copy_requests "$mark" "$c")" "PUT 200" "requests for $c's copy"
  # A stale cached copy: the PUT carries its resourceVersion, meets 409, and the copy is read
  # and written again; the other writer's key survives.
  touch "$T/armed"
  mark=$(wc -l <"$T/watch.err")
  set_source_and_wait "$a" v3 "$b" "$c"
  expect_eq "$(copy_requests "$mark" "$b")" "PUT 200" "requests for $b's copy"
  expect_eq "$(copy_requests "$mark" "$c")" "PUT 409,GET 200,PUT 200" "requests for $c's copy"
  expect_eq "$(cm_key "$c" app-config local)" changed-by-other
  # A cached copy deleted behind the watcher's back: the PUT meets 404, the copy is read
  # (gone) and created again.
  touch "$T/armed-delete"
  mark=$(wc -l <"$T/watch.err")
  set_source_and_wait "$a" v4 "$b" "$c"
  expect_eq "$(copy_requests "$mark" "$c")" "PUT 404,GET 404,POST 201" "requests for $c's copy"
  expect_eq "$(cm_key "$c" app-config local)" "<absent>"
  stop_watch INT
  expect_not_in "$(watch_log)" "error"
}

test_watch_resync_period_reads_every_copy_afresh_and_writes_nothing_in_step() {
  # SPEC: --resync-period is the safety net; it must not trust the watcher's copy cache.
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  start_watch "$a" "$b" "$c" --name app-config --resync-period 2s -v 6
  wait_for 20 key_is "$b" app-config config.yaml v1
  wait_for 20 key_is "$c" app-config config.yaml v1
  wait_for 10 grep -q "resync: full relist and repair" "$T/watch.err"
  local mark
  mark=$(grep -n "resync: full relist and repair" "$T/watch.err" | head -n 1 | cut -d: -f1)
  mark=$((mark - 1))
  wait_for 10 bash -c "[[ \$(grep -c 'resync: full relist and repair' '$T/watch.err') -ge 2 ]]"
  stop_watch INT
  local second
  second=$(grep -n "resync: full relist and repair" "$T/watch.err" | sed -n 2p | cut -d: -f1)
  # between the first and the second pass: each copy read once, nothing written
  expect_eq "$(head -n "$second" "$T/watch.err" | tail -n "+$((mark + 1))" | grep -cE "GET https://[^ ]+/namespaces/$b/configmaps/app-config 200")" 1 "reads of $b's copy"
  expect_eq "$(head -n "$second" "$T/watch.err" | tail -n "+$((mark + 1))" | grep -cE "GET https://[^ ]+/namespaces/$c/configmaps/app-config 200")" 1 "reads of $c's copy"
  expect_eq "$(head -n "$second" "$T/watch.err" | tail -n "+$((mark + 1))" | grep -cE "(PUT|POST) https://")" 0 "writes"
}

test_watch_hand_edit_is_drift_then_force_restores() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  start_watch "$a" "$b" --name app-config
  wait_for 20 key_is "$b" app-config config.yaml v1
  k -n "$b" patch configmap app-config --type merge -p '{"data":{"config.yaml":"hand edit","own":"x"}}' >/dev/null
  wait_for 10 grep -q "$b/app-config drift" "$T/watch.out"
  sleep 1
  expect_eq "$(cm_key "$b" app-config config.yaml)" "hand edit"
  stop_watch TERM
  start_watch "$a" "$b" --name app-config --force
  wait_for 20 key_is "$b" app-config config.yaml v1
  expect_eq "$(cm_key "$b" app-config own)" x
  stop_watch TERM
}

# Found by the soak (issue 17): the copy's state had been reported as drift, so its orphan
# report, for the same resourceVersion, was taken for a repeat and dropped.
test_watch_drifted_copy_whose_source_is_deleted_is_reported_orphaned() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app --from-literal=k=v1 --from-literal=j=1 >/dev/null
  start_watch "$a" "$b" --name app
  wait_for 20 key_is "$b" app k v1
  k -n "$b" patch configmap app --type merge -p '{"data":{"k":"hand"}}' >/dev/null
  wait_for 10 grep -q "$b/app drift" "$T/watch.out"
  k -n "$a" delete configmap app >/dev/null
  wait_for 10 grep -q "$b/app orphaned" "$T/watch.out"
  expect_eq "$(cm_key "$b" app k)" hand
  stop_watch TERM
}

test_watch_new_namespace_matching_target_selector_gets_copy() {
  local a label b c
  label=cmsync-e2e-$RANDOM
  a=$(new_ns src); b=$(new_ns dst "team=$label")
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  start_watch -n "$a" --target-selector "team=$label" --name app-config --log-format json
  wait_for 20 key_is "$b" app-config config.yaml v1
  c=$(new_ns dst)
  sleep 1
  expect_eq "$(cm_key "$c" app-config config.yaml)" "<absent>"
  k label namespace "$c" "team=$label" >/dev/null
  wait_for 20 key_is "$c" app-config config.yaml v1
  stop_watch INT
  expect_eq "$(jq -r "select(.target == \"$c/app-config\") | .action" "$T/watch.out")" created
}

test_watch_source_deleted_with_prune() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  k -n "$c" create configmap app-config --from-literal=own=1 >/dev/null
  start_watch "$a" "$b" "$c" --name app-config --prune
  wait_for 20 key_is "$b" app-config config.yaml v1
  wait_for 20 key_is "$c" app-config config.yaml v1
  k -n "$a" delete configmap app-config >/dev/null
  wait_for 20 bash -c "! kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$b' get configmap app-config"
  wait_for 20 key_is "$c" app-config config.yaml "<absent>"
  expect_eq "$(cm_key "$c" app-config own)" 1
  stop_watch INT
  expect_in "$(cat "$T/watch.out")" "$b/app-config deleted"
}

test_watch_proxy_cut_resumes_from_resource_version_without_relist() {
  local a b port api_port
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  port=$(free_port)
  api_port=$(sed -E 's#.*:##' "$CMSYNC_CLUSTER_DIR/server")
  start_proxy "$port" "$api_port"
  kubeconfig_for_port "$port" "$T/proxy.kubeconfig"
  start_watch --kubeconfig "$T/proxy.kubeconfig" "$a" "$b" --name app-config -v 6 --watch-scope namespaces
  wait_for 20 key_is "$b" app-config config.yaml v1
  # both streams past their lists (the source's and the target's)
  wait_for 10 bash -c "[ \$(grep -c 'watch=1.*resourceVersion=.*stream opened' '$T/watch.err') -ge 2 ]"
  local lists_before
  lists_before=$(grep -cE 'GET https://[^ ]+/configmaps\?limit=' "$T/watch.err")
  cut_proxy
  start_proxy "$port" "$api_port"
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  wait_for 30 key_is "$b" app-config config.yaml v2
  stop_watch INT
  expect_eq "$(grep -cE 'GET https://[^ ]+/configmaps\?limit=' "$T/watch.err")" "$lists_before" "list requests after the cut"
  expect_match "$(watch_log)" "watch $a: .*connection lost|watch $a: .*cannot reach"
  expect_eq "$(grep -c 'relisting' "$T/watch.err")" 0 "relists"
  cut_proxy
}

test_watch_kill_9_and_restart_with_state_file() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  start_watch "$a" "$b" --name app-config --state-file "$T/state.json" -v 6
  wait_for 20 key_is "$b" app-config config.yaml v1
  wait_for 10 test -s "$T/state.json"
  stop_watch KILL
  expect_eq "$(stat -c %a "$T/state.json")" 600
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  k -n "$b" patch configmap app-config --type merge -p '{"data":{"extra":"added while down"}}' >/dev/null
  : >"$T/watch.err"
  start_watch "$a" "$b" --name app-config --state-file "$T/state.json" -v 6
  wait_for 20 key_is "$b" app-config config.yaml v2
  expect_in "$(watch_log)" "resuming from state file"
  # resumed from saved resourceVersions: the target namespace was watched, not listed again
  expect_eq "$(grep -cE "GET https://[^ ]+/namespaces/$b/configmaps\?limit=" "$T/watch.err")" 0 "target lists after resume"
  expect_match "$(cat "$T/watch.err")" "namespaces/$b/configmaps\?watch=1.*resourceVersion=[0-9]+"
  expect_eq "$(cm_key "$b" app-config extra)" "added while down"
  stop_watch TERM
}

# restart_converges DIR KUBECONFIG: the watcher's apiserver stops; two source updates and a
# copy's delete are made through a second apiserver on the same etcd; the first comes back.
# Every copy then gets exactly one successful write, with the final value.
restart_converges() {
  local dir=$1 admin=$2 a b c
  kc() { kubectl --kubeconfig "$admin" "$@"; }
  a=src-$RANDOM$RANDOM; b=dst-$RANDOM$RANDOM; c=dst-$RANDOM$RANDOM
  for ns in "$a" "$b" "$c"; do kc create namespace "$ns" >/dev/null; done
  kc -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  kv() { [[ "$(kc -n "$1" get configmap app-config -o jsonpath="{.data.config\.yaml}" 2>/dev/null)" == "$2" ]]; }
  start_watch --kubeconfig "$admin" "$a" "$b" "$c" --name app-config
  wait_for 20 kv "$b" v1
  wait_for 20 kv "$c" v1
  local pid port
  pid=$(cat "$dir/apiserver.pid")
  kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  port=$(free_port)
  sed -E "s/^--secure-port=.*/--secure-port=$port/; s#^--audit-log-path=.*#--audit-log-path=$T/audit2.log#" \
    "$dir/apiserver-args" >"$T/args2"
  mapfile -t args2 <"$T/args2"
  "$(cat "$dir/bin")/kube-apiserver" "${args2[@]}" >"$T/apiserver2.log" 2>&1 &
  local pid2=$!
  echo "$pid2" >>"$T/bg.pids"
  sed -E "s#server: https://127.0.0.1:[0-9]+#server: https://127.0.0.1:$port#" "$admin" >"$T/second.kubeconfig"
  wait_for 60 kubectl --kubeconfig "$T/second.kubeconfig" get --raw /readyz
  kubectl --kubeconfig "$T/second.kubeconfig" -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  kubectl --kubeconfig "$T/second.kubeconfig" -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v3"}}' >/dev/null
  kubectl --kubeconfig "$T/second.kubeconfig" -n "$c" delete configmap app-config >/dev/null
  kill "$pid2"; wait "$pid2" 2>/dev/null || true
  local mark
  mark=$(wc -l <"$dir/audit.log")
  "$CMSYNC_SOURCE_DIR/tests/cluster/start-apiserver" "$dir"
  wait_for 60 kv "$b" v3
  wait_for 60 kv "$c" v3
  sleep 2
  stop_watch INT
  local writes
  writes=$(tail -n +"$((mark + 1))" "$dir/audit.log" |
    jq -r --arg b "$b" --arg c "$c" 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps" and (.objectRef.namespace == $b or .objectRef.namespace == $c) and (.verb == "create" or .verb == "update") and .responseStatus.code < 300) | .objectRef.namespace + " " + .verb' | sort | paste -sd, -)
  expect_eq "$writes" "$(printf '%s\n' "$b update" "$c create" | sort | paste -sd, -)" "successful writes after the restart"
}

test_watch_apiserver_restart_converges_without_duplicate_writes() {
  restart_converges "$CMSYNC_CLUSTER_DIR" "$CMSYNC_ADMIN_KUBECONFIG"
}

test_watch_apiserver_restart_without_watch_cache_writes_each_copy_once() {
  # Without the watch cache, the resumed watch gets every version it missed from etcd (v2,
  # then v3), not a 410: only the newest may be written.
  local dir admin
  own_cluster
  restart_converges "$dir" "$admin"
}

test_watch_410_after_compaction_relists_and_handles_missed_delete() {
  local dir admin
  own_cluster
  kc create namespace src >/dev/null; kc create namespace dst1 >/dev/null; kc create namespace dst2 >/dev/null
  kc -n src create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  local port api_port
  port=$(free_port)
  api_port=$(sed -E 's#.*:##' "$dir/server")
  start_proxy "$port" "$api_port"
  sed -E "s#server: https://127.0.0.1:[0-9]+#server: https://127.0.0.1:$port#" "$admin" >"$T/proxy.kubeconfig"
  start_watch --kubeconfig "$T/proxy.kubeconfig" src dst1 dst2 --name app-config -v 6 --watch-scope namespaces
  kv() { [[ "$(kc -n "$1" get configmap app-config -o jsonpath="{.data.config\.yaml}" 2>/dev/null)" == "$2" ]]; }
  wait_for 20 kv dst1 v1
  wait_for 20 kv dst2 v1
  wait_for 10 grep -q "namespaces/dst2/configmaps?watch=1" "$T/watch.err"
  kill -STOP "$(cat "$T/watch.pid")"
  cut_proxy
  kc -n src patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  kc -n dst2 delete configmap app-config >/dev/null
  for i in $(seq 1 5); do kc -n dst1 create configmap "filler-$i" --from-literal=a=b >/dev/null; done
  "$CMSYNC_SOURCE_DIR/tests/cluster/compact" "$dir" >/dev/null
  start_proxy "$port" "$api_port"
  kill -CONT "$(cat "$T/watch.pid")"
  wait_for 40 kv dst1 v2
  wait_for 40 kv dst2 v2
  stop_watch INT
  expect_match "$(cat "$T/watch.err")" "(410|too old).*relisting"
  cut_proxy
}

test_watch_streams_share_one_connection() {
  local a targets=() port pid conns
  a=$(new_ns src)
  for i in $(seq 1 8); do targets+=("$(new_ns dst)"); done
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  start_watch "$a" "${targets[@]}" --name app-config --watch-scope namespaces --state-file "$T/state.json"
  for ns in "${targets[@]}"; do wait_for 20 key_is "$ns" app-config config.yaml v1; done
  stop_watch INT
  # Resumed from the state file there are no lists: one read of the sources, then 9 watches.
  start_watch "$a" "${targets[@]}" --name app-config --watch-scope namespaces --state-file "$T/state.json" -v 6
  wait_for 20 bash -c "[ \$(grep -c 'watch=1.*stream opened' '$T/watch.err') -ge 9 ]"
  sleep 1
  port=$(sed -E 's#.*:##' "$CMSYNC_CLUSTER_DIR/server")
  pid=$(cat "$T/watch.pid")
  conns=$(ss -Htnp state established "( dport = :$port )" | grep -c "pid=$pid," || true)
  echo "connections of the watcher to the apiserver: $conns"
  (( conns >= 1 && conns <= 2 )) || fail "9 watch streams should share one HTTP/2 connection (plus at most one for requests); saw $conns"
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  for ns in "${targets[@]}"; do wait_for 20 key_is "$ns" app-config config.yaml v2; done
  stop_watch INT
}

test_watch_a_write_cut_off_is_tried_again_without_waiting_for_another_event() {
  # Found by the soak (issue 27): a write that failed on the network waited for the next event
  # of its source or copy, or the resync period, minutes away.
  local a b port api_port kind
  for kind in configmap secret; do
    a=$(new_ns src); b=$(new_ns dst)
    k -n "$a" create "$kind" $([[ $kind == secret ]] && echo generic) app --from-literal=k=v1 >/dev/null
    port=$(free_port)
    api_port=$(sed -E 's#.*:##' "$CMSYNC_CLUSTER_DIR/server")
    start_proxy "$port" "$api_port"
    kubeconfig_for_port "$port" "$T/proxy.kubeconfig"
    # Before a write, once armed: the proxy goes (the write fails) and comes back 2 s later.
    cat >"$T/hook" <<HOOK
#!/usr/bin/env bash
[[ -e "$T/armed" ]] || exit 0
rm -f "$T/armed"
pkill -KILL -P "\$(cat "$T/proxy.pid")"; kill -KILL "\$(cat "$T/proxy.pid")"
(sleep 2; socat TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:$api_port & echo \$! >"$T/proxy.pid"; echo \$! >>"$T/bg.pids") >/dev/null 2>&1 &
HOOK
    chmod +x "$T/hook"
    CMSYNC_TEST_BEFORE_WRITE="$T/hook" with_fault_hooks start_watch --kubeconfig "$T/proxy.kubeconfig" \
      "$a" "$b" --kind "$kind" --name app
    value() { k -n "$b" get "$kind" app -o jsonpath='{.data.k}' | { if [[ $kind == secret ]]; then base64 -d; else cat; fi; }; }
    wait_for 20 bash -c "$(declare -f k value); kind=$kind b=$b; [[ \$(value) == v1 ]]"
    touch "$T/armed"
    if [[ $kind == secret ]]; then
      k -n "$a" patch secret app -p '{"stringData":{"k":"v2"}}' >/dev/null
    else
      k -n "$a" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
    fi
    wait_for 30 bash -c "$(declare -f k value); kind=$kind b=$b; [[ \$(value) == v2 ]]"
    stop_watch INT
    expect_match "$(cat "$T/watch.out")" "$b/app error"
    expect_in "$(cat "$T/watch.err")" "trying again 1 copy of app that failed"
    cut_proxy
    : >"$T/watch.out"; : >"$T/watch.err"
  done
}

# Found by the soak: a source deleted and created again while the watcher was stopped. Its
# stream then brings the delete late; the copies must not be orphaned (with --prune: stripped or
# deleted) when the source exists again, least of all a copy a sync run already made in step
# with the new source.
test_watch_late_delete_of_a_recreated_source_orphans_nothing() {
  local a b c mark writes
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app --from-literal=k=v1 --from-literal=gone=x >/dev/null
  start_watch "$a" "$b" "$c" --name app --prune --watch-scope namespaces
  wait_for 20 key_is "$b" app k v1
  wait_for 20 key_is "$c" app k v1
  kill -STOP "$(cat "$T/watch.pid")"
  k -n "$a" delete configmap app >/dev/null
  k -n "$a" create configmap app --from-literal=k=v2 >/dev/null
  kubectl cmsync sync "$a" "$b" --name app >/dev/null
  key_is "$b" app k v2 || fail "the sync run did not write $b"
  mark=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)  # the audit log is written behind: by time, not line
  kill -CONT "$(cat "$T/watch.pid")"
  wait_for 20 key_is "$c" app k v2
  sleep 2
  stop_watch INT
  expect_not_in "$(watch_log)" "is gone"
  # c: one update to the new source; b: in step already, nothing; no delete anywhere. (A PUT
  # planned from a stale cached copy may meet a 409 and change nothing: not a write.)
  writes=$(jq -r --arg b "$b" --arg c "$c" --arg mark "$mark" 'select(.stage == "ResponseComplete" and .requestReceivedTimestamp > $mark and .objectRef.resource == "configmaps" and (.objectRef.namespace == $b or .objectRef.namespace == $c) and .verb != "get" and .verb != "list" and .verb != "watch" and .responseStatus.code < 300) | .objectRef.namespace + " " + .verb' "$CMSYNC_CLUSTER_DIR/audit.log" | paste -sd, -)
  expect_eq "$writes" "$c update" "writes after the watcher woke"
  expect_eq "$(cm_key "$c" app gone)" "<absent>" "key gone, which the new source lacks, in $c"
}
