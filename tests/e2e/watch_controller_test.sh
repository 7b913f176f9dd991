# Defects found in `watch` as a controller (issue 26 item 8): the first leader's creates, the
# gauges of a quiet watcher, a drifted copy falling behind its source without a word. The CLI
# form with the admin's kubeconfig runs the same code as a replica in the cluster.

# ConfigMap creates of NAME since audit log line MARK, as "namespace code" lines, 409s included.
audit_creates() {  # mark name
  tail -n "+$(($1 + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r --arg name "$2" 'select(.stage == "ResponseComplete" and .verb == "create"
      and .objectRef.resource == "configmaps" and .objectRef.name == $name)
      | "\(.objectRef.namespace) \(.responseStatus.code)"'
}

# The port `watch --metrics-bind-address 127.0.0.1:0` serves on (it logs it).
watch_metrics_port() {
  wait_for 20 grep -q 'serving /healthz' "$T/watch.err"
  sed -n 's/.*serving \/healthz.*(port \([0-9]*\)).*/\1/p' "$T/watch.err" | head -n 1
}

# The first leader repaired every copy while its first lists were still on their way; their
# pass then created the same copies again (answered 409 AlreadyExists): 5 creates for 3
# missing copies in 4 of 6 start-ups. Each start-up here wins a fresh Lease at once.
test_watch_leader_elect_start_up_creates_each_missing_copy_once() {
  local a ts=() round lease mark creates ns
  a=$(new_ns src)
  for _ in 1 2 3; do ts+=("$(new_ns dst)"); done
  k -n "$a" create configmap app --from-literal=k=v1 >/dev/null
  for round in 1 2 3 4; do
    lease=le-$RANDOM
    mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
    : >"$T/watch.out"
    start_watch "$a" "${ts[@]}" --name app --leader-elect --leader-elect-namespace "$a" \
      --leader-elect-name "$lease"
    for ns in "${ts[@]}"; do wait_for 20 key_is "$ns" app k v1; done
    wait_for 20 grep -q 'leader election: became the leader' "$T/watch.err"
    sleep 2  # a second pass, had there been one, is done by now
    stop_watch TERM
    creates=$(audit_creates "$mark" app)
    echo "start-up $round: $(wc -l <<<"$creates") creates for 3 missing copies ($(awk '{print $2}' <<<"$creates" | sort | uniq -c | tr -s ' ' | paste -sd, -))"
    for ns in "${ts[@]}"; do
      expect_eq "$(grep -c "^$ns " <<<"$creates")" 1 "start-up $round: creates of $ns/app"
    done
    expect_eq "$(grep -c ' created' "$T/watch.out")" 3 "start-up $round: created lines"
    for ns in "${ts[@]}"; do k -n "$ns" delete configmap app >/dev/null; done
  done
}

# cmsync_last_sync_timestamp_seconds had no sample after the first pass of a watcher whose
# sources did not change (only a source's pass or a resync, 5 minutes later, set it), and the
# counters an alert would watch had none before their first increment.
test_watch_metrics_every_alerting_series_has_a_sample_from_the_first_pass() {
  local a b port m
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app --from-literal=k=v1 >/dev/null
  for mode in plain leader; do
    : >"$T/watch.err"
    if [[ $mode == leader ]]; then
      start_watch "$a" "$b" --name app --metrics-bind-address 127.0.0.1:0 --leader-elect \
        --leader-elect-namespace "$a" --leader-elect-name "le-$RANDOM"
    else
      start_watch "$a" "$b" --name app --metrics-bind-address 127.0.0.1:0
    fi
    port=$(watch_metrics_port)
    wait_for 20 key_is "$b" app k v1
    readyz_ok() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 200 ]]; }
    wait_for 20 readyz_ok
    sleep 1
    m=$(curl -fsS "http://127.0.0.1:$port/metrics")
    out=$m
    expect_match "$m" "^cmsync_last_sync_timestamp_seconds\\{rule=\"$a\"\\} [0-9.e+]+$"
    expect_match "$m" '^cmsync_copies_managed 1$'
    for counter in drift conflicts orphans watch_restarts relists; do
      expect_match "$m" "^cmsync_${counter}_total 0$"
    done
    [[ $mode != leader ]] || expect_match "$m" "^cmsync_leader_is_leader\\{lease=\"$a/le-[0-9]+\"\\} 1$"
    stop_watch TERM
  done
}

# A copy with a hand-edited managed key was reported once; when its source then changed, the
# other copies were updated and this one skipped without a log line, Event or metric.
test_watch_drifted_copy_is_reported_once_per_source_change_it_misses() {
  local a b c v rv rvs=()
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app --from-literal=k=v1 >/dev/null
  start_watch "$a" "$b" "$c" --name app --record-events
  wait_for 20 key_is "$b" app k v1
  wait_for 20 key_is "$c" app k v1
  k -n "$b" patch configmap app --type merge -p '{"data":{"k":"by hand"}}' >/dev/null
  wait_for 10 grep -q "$b/app drift" "$T/watch.out"
  for v in v2 v3; do
    rv=$(k -n "$a" patch configmap app --type merge -p "{\"data\":{\"k\":\"$v\"}}" \
      -o jsonpath='{.metadata.resourceVersion}')
    rvs+=("$rv")
    wait_for 20 key_is "$c" app k "$v"
    wait_for 10 grep -q "$b/app drift (conflict k): .*resourceVersion $rv\$" "$T/watch.out"
  done
  sleep 1
  out=$(cat "$T/watch.out")
  for rv in "${rvs[@]}"; do
    expect_eq "$(grep -c "$b/app drift (conflict k): .*resourceVersion $rv\$" "$T/watch.out")" 1 \
      "lines for source resourceVersion $rv"
  done
  expect_eq "$(grep -c "$b/app drift" "$T/watch.out")" 3 "the hand edit, then each source change"
  expect_eq "$(grep -c "$c/app drift" "$T/watch.out")" 0 "the copy in step"
  has_event() {
    drift_events "$b" app |
      jq -e --arg rv "$rv" 'any(.[]; .note | test("resourceVersion " + $rv + "$"))' >/dev/null
  }
  wait_for 20 has_event
  expect_eq "$(cm_key "$b" app k)" "by hand" "the hand edit is kept"
  stop_watch INT
}
