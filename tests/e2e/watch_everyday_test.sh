# `watch` must never stop or stall on what users do every day (issue 12). Checked with kubectl
# and the audit log.

test_watch_deleted_and_recreated_named_source_survives_resync_periods() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app --from-literal=k=v1 >/dev/null
  k -n "$a" create configmap tmp --from-literal=t=1 >/dev/null
  start_watch "$a" "$b" "$c" --name app,tmp --resync-period 2s
  for ns in "$b" "$c"; do
    wait_for 20 key_is "$ns" app k v1
    wait_for 20 key_is "$ns" tmp t 1
  done
  k -n "$a" delete configmap tmp >/dev/null
  wait_for 20 grep -q "$b/tmp orphaned" "$T/watch.out"
  sleep 5  # two resync periods with the named source gone
  kill -0 "$(cat "$T/watch.pid")" || { err=$(cat "$T/watch.err"); fail "the watcher exited"; }
  k -n "$a" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  for ns in "$b" "$c"; do wait_for 20 key_is "$ns" app k v2; done
  # created again later: it syncs again
  k -n "$a" create configmap tmp --from-literal=t=2 >/dev/null
  for ns in "$b" "$c"; do wait_for 20 key_is "$ns" tmp t 2; done
  sleep 3
  stop_watch INT
  expect_not_in "$(watch_log)" "not found in namespace"
  expect_not_in "$(watch_log)" "cannot read the sources"
}

test_watch_starts_with_a_named_source_missing_and_syncs_it_once_created() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app --from-literal=k=v1 >/dev/null
  start_watch "$a" "$b" --name app,later --resync-period 2s
  wait_for 20 key_is "$b" app k v1
  wait_for 10 grep -q "source ConfigMap \"later\" not found in namespace \"$a\": waiting for it" "$T/watch.err"
  sleep 3
  k -n "$a" create configmap later --from-literal=x=1 >/dev/null
  wait_for 20 key_is "$b" later x 1
  stop_watch INT
}

# Namespace Roles for the restricted user in the source and in each of N new target namespaces.
restricted_targets() {  # source count -> prints the target names
  local src=$1 count=$2 suffix=$RANDOM$RANDOM rbac=$CMSYNC_SOURCE_DIR/deploy/rbac names=()
  k -n "$src" apply -f "$rbac/source-reader.yaml" >/dev/null
  for i in $(seq 1 "$count"); do names+=("wr-$suffix-$i"); done
  printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "${names[@]}" | k apply -f - >/dev/null
  for ns in "${names[@]}"; do
    sed "s/^metadata:/metadata:\n  namespace: $ns/" "$rbac/target-writer.yaml"
    echo "---"
  done | k apply -f - >/dev/null
  echo "${names[@]}"
}

test_watch_over_20_targets_with_namespace_roles_falls_back_to_namespace_watches() {
  local a targets
  a=$(new_ns src)
  read -r -a targets <<<"$(restricted_targets "$a" 25)"
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  local as=(--kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG")
  # asked for explicitly, a forbidden cluster scope is an error at start, not a retry loop
  run timeout 20 kubectl cmsync "${as[@]}" watch "$a" "${targets[@]}" --name app-config --watch-scope cluster
  expect_rc 2
  expect_in "$err" "error: --watch-scope cluster: not allowed to list and watch configmaps in all namespaces"
  start_watch "${as[@]}" "$a" "${targets[@]}" --name app-config
  for ns in "${targets[@]}"; do wait_for 30 key_is "$ns" app-config config.yaml v1; done
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  for ns in "${targets[@]}"; do wait_for 30 key_is "$ns" app-config config.yaml v2; done
  stop_watch INT
  expect_in "$(watch_log)" "one watch per namespace instead"
  expect_in "$(watch_log)" "for 25 target namespace(s), namespace scope"
  expect_not_in "$(watch_log)" "forbidden (check RBAC)"
}

test_watch_a_burst_of_30_updates_costs_each_copy_at_most_3_writes() {
  local a targets=() pki=$CMSYNC_CLUSTER_DIR/pki server
  server=$(cat "$CMSYNC_CLUSTER_DIR/server")
  a=$(new_ns src)
  for i in 1 2 3 4 5; do targets+=("$(new_ns dst)"); done
  k -n "$a" create configmap app-config --from-literal=config.yaml=v0 >/dev/null
  start_watch "$a" "${targets[@]}" --name app-config
  for ns in "${targets[@]}"; do wait_for 20 key_is "$ns" app-config config.yaml v0; done
  local mark args=()
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  # 30 updates as fast as one curl sends them (about 0.5 s here)
  for i in $(seq 1 30); do
    [[ $i == 1 ]] || args+=(--next)
    args+=(-sS --fail -o /dev/null --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key"
      -X PATCH -H 'Content-Type: application/merge-patch+json' -d "{\"data\":{\"config.yaml\":\"v$i\"}}"
      "$server/api/v1/namespaces/$a/configmaps/app-config")
  done
  curl "${args[@]}"
  for ns in "${targets[@]}"; do wait_for 20 key_is "$ns" app-config config.yaml v30; done
  sleep 2
  stop_watch INT
  local per_copy
  per_copy=$(tail -n +"$((mark + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps" and .verb == "update" and .objectRef.name == "app-config") | .objectRef.namespace' |
    sort | uniq -c | awk '{print $1}' | sort -n | paste -sd, -)
  echo "writes per copy for a 30-update burst: $per_copy" | tee -a "${CMSYNC_E2E_FIGURES:-/dev/null}"
  local n
  for ns in "${targets[@]}"; do
    n=$(tail -n +"$((mark + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
      jq -r --arg ns "$ns" 'select(.stage == "ResponseComplete" and .objectRef.namespace == $ns and .verb == "update") | .verb' | wc -l)
    (( n >= 1 && n <= 3 )) || fail "copy in $ns got $n writes for a burst of 30 updates (goal <= 3)"
  done
}

test_watch_cluster_scope_for_one_name_is_filtered_by_the_server() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=v1 >/dev/null
  start_watch "$a" "$b" "$c" --name app-config --watch-scope cluster -v 6
  wait_for 20 key_is "$b" app-config k v1
  wait_for 20 key_is "$c" app-config k v1
  wait_for 10 grep -q 'api/v1/configmaps?watch=1.*stream opened' "$T/watch.err"
  expect_match "$(cat "$T/watch.err")" 'GET https://[^ ]+/api/v1/configmaps\?limit=500&fieldSelector=metadata.name%3Dapp-config 200'
  expect_match "$(cat "$T/watch.err")" 'api/v1/configmaps\?watch=1&[^ ]*fieldSelector=metadata.name%3Dapp-config'
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  wait_for 20 key_is "$b" app-config k v2
  wait_for 20 key_is "$c" app-config k v2
  # a copy deleted by hand comes back (its delete reaches the filtered watch)
  k -n "$c" delete configmap app-config >/dev/null
  wait_for 20 key_is "$c" app-config k v2
  stop_watch INT
}

test_watch_cluster_scope_for_a_selector_rule_is_filtered_by_the_server() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap one --from-literal=k=1 >/dev/null
  k -n "$a" label configmap one sync=yes >/dev/null
  k -n "$a" create configmap unrelated --from-literal=k=x >/dev/null
  k -n "$c" create configmap one --from-literal=own=1 >/dev/null  # not a copy yet: adopted
  start_watch "$a" "$b" "$c" -l sync=yes --watch-scope cluster -v 6
  wait_for 20 key_is "$b" one k 1
  wait_for 20 key_is "$c" one k 1
  expect_eq "$(cm_key "$c" one own)" 1
  wait_for 10 grep -q 'api/v1/configmaps?watch=1.*stream opened' "$T/watch.err"
  # sources by label from their namespace, copies by the managed label: nothing else is sent
  expect_match "$(cat "$T/watch.err")" "namespaces/$a/configmaps\?limit=500&labelSelector=sync%3Dyes 200"
  expect_match "$(cat "$T/watch.err")" 'api/v1/configmaps\?limit=500&labelSelector=cmsync.io%2Fmanaged%3Dtrue 200'
  expect_match "$(cat "$T/watch.err")" 'api/v1/configmaps\?watch=1&[^ ]*labelSelector=cmsync.io%2Fmanaged%3Dtrue'
  # a new source, a change, a copy deleted by hand, and a source leaving the selection
  k -n "$a" create configmap two --from-literal=k=2 >/dev/null
  k -n "$a" label configmap two sync=yes >/dev/null
  wait_for 20 key_is "$b" two k 2
  k -n "$a" patch configmap one --type merge -p '{"data":{"k":"1b"}}' >/dev/null
  wait_for 20 key_is "$b" one k 1b
  wait_for 20 key_is "$c" one k 1b
  k -n "$b" delete configmap two >/dev/null
  wait_for 20 key_is "$b" two k 2
  k -n "$a" label configmap two sync- >/dev/null
  wait_for 20 grep -q "$b/two orphaned" "$T/watch.out"
  expect_eq "$(cm_key "$b" unrelated k)" "<absent>"
  stop_watch INT
}

test_watch_record_events_without_leader_election_posts_a_drift_event() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app --from-literal=k=v1 >/dev/null
  start_watch "$a" "$b" --name app --record-events
  wait_for 20 key_is "$b" app k v1
  k -n "$b" patch configmap app --type merge -p '{"data":{"k":"by hand"}}' >/dev/null
  has_event() { [[ $(drift_events "$b" app | jq length) -ge 1 ]]; }
  wait_for 20 has_event
  local e
  e=$(drift_events "$b" app)
  expect_eq "$(jqv "$e" 'length')" 1
  expect_eq "$(jqv "$e" '.[0].reportingController')" cmsync.io/kubectl-cmsync
  expect_eq "$(jqv "$e" '.[0].type')" Warning
  expect_eq "$(jqv "$e" '.[0].regarding.uid')" "$(k -n "$b" get configmap app -o jsonpath='{.metadata.uid}')"
  # no Lease, so the instance is this host's name and a random suffix (as a standalone replica)
  [[ $(jqv "$e" '.[0].reportingInstance') =~ ^$(hostname)_[0-9a-f]{10}$ ]] ||
    fail "reportingInstance $(jqv "$e" '.[0].reportingInstance')"
  expect_eq "$(k -n "$a" get leases.coordination.k8s.io -o name)" "" "no Lease without --leader-elect"
  stop_watch INT
  expect_eq "$(cm_key "$b" app k)" "by hand" "the hand edit is kept"
}
