# `kubectl cmsync resync` against the real apiserver (issue 6); checked with kubectl and the
# audit log.

resync_writes() {  # successful ConfigMap writes recorded after line $1 of the audit log
  tail -n +"$(($1 + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps" and (.verb == "create" or .verb == "update" or .verb == "delete") and .responseStatus.code < 300) | .verb' | wc -l
}

test_resync_repairs_900_copies_and_second_run_writes_nothing() {
  local src suffix targets=()
  src=$(new_ns src)
  suffix=$RANDOM$RANDOM
  for i in $(seq 1 300); do
    targets+=("rs-$suffix-$i")
    printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: rs-%s-%d, labels: {rs: "%s"}}\n' "$suffix" "$i" "$suffix"
  done >"$T/ns.yaml"
  k apply -f "$T/ns.yaml" >/dev/null
  for name in a b c stale gone; do
    k -n "$src" create configmap "$name" --from-literal=config.yaml="$name-v1" --from-literal=k2=x >/dev/null
  done
  run kubectl cmsync sync "$src" "${targets[@]}" --name a,b,c -o json
  expect_rc 0
  expect_eq "$(jqv "$out" .summary.created)" 900
  run kubectl cmsync sync "$src" "${targets[@]:0:10}" --name stale,gone
  expect_rc 0
  # drift: 5 copies edited by hand; stale: the source moved on; orphans: the source is gone
  for i in 1 2 3 4 5; do
    k -n "${targets[$i]}" patch configmap a --type merge -p '{"data":{"config.yaml":"hand edit"}}' >/dev/null
  done
  k -n "$src" patch configmap stale --type merge -p '{"data":{"config.yaml":"stale-v2"}}' >/dev/null
  k -n "$src" delete configmap gone >/dev/null
  local mark
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  run kubectl cmsync resync "${targets[@]}" -o json --chunk-size 200
  expect_rc 1
  expect_eq "$(jqv "$out" '.summary["in-step"]')" 895
  expect_eq "$(jqv "$out" '.summary.conflict')" 5
  expect_eq "$(jqv "$out" '.summary.updated')" 10
  expect_eq "$(jqv "$out" '.summary.orphaned')" 10
  expect_eq "$(jqv "$out" "[.copies[] | select(.source == \"$src/stale\" and .result == \"updated\")] | length")" 10
  expect_eq "$(resync_writes "$mark")" 10 "writes of the first run"
  for i in 0 9; do expect_eq "$(cm_key "${targets[$i]}" stale config.yaml)" stale-v2; done
  expect_eq "$(cm_key "${targets[1]}" a config.yaml)" "hand edit"
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  run kubectl cmsync resync "${targets[@]:0:20}"
  expect_rc 1
  expect_in "$out" "80 copies: 65 in-step, 0 updated, 5 conflict, 10 orphaned, 0 error"
  expect_eq "$(resync_writes "$mark")" 0 "writes of the second run"
  # --prune: orphans lose their managed keys; copies left empty are deleted
  run kubectl cmsync resync "${targets[@]:0:10}" --prune
  expect_in "$out" "(deleted)"
  run k -n "${targets[0]}" get configmap gone
  expect_rc 1
}

test_resync_list_restarts_after_expired_continue_token() {
  local dir admin
  own_cluster
  kc create namespace src >/dev/null
  local targets=()
  for i in $(seq 1 150); do targets+=("t$i"); done
  printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "${targets[@]}" | kc apply -f - >/dev/null
  kc -n src create configmap app --from-literal=k=v1 >/dev/null
  run kubectl cmsync --kubeconfig "$admin" sync src "${targets[@]}" --name app
  expect_rc 0
  kc -n src patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  # After the first page: one more write, then compaction past the list's snapshot (the fault
  # build's hook, run by resync before it asks for the next page: lib.sh with_fault_hooks).
  cat >"$T/hook" <<HOOK
#!/bin/sh
[ -e "$T/hooked" ] && exit 0
touch "$T/hooked"
kubectl --kubeconfig "$admin" -n src create configmap bump-\$\$ --from-literal=a=b >/dev/null
"$CMSYNC_SOURCE_DIR/tests/cluster/compact" "$dir" >/dev/null
HOOK
  chmod +x "$T/hook"
  CMSYNC_TEST_AFTER_PAGE="$T/hook" with_fault_hooks run kubectl cmsync --kubeconfig "$admin" resync -A --chunk-size 50 -v 6
  expect_rc 0
  # the counts describe the last, complete pass: copies repaired before the restart are in step
  expect_in "$out" "150 copies: 50 in-step, 100 updated, 0 conflict, 0 orphaned, 0 error (list restarted 1 time(s))"
  expect_eq "$(grep -c ': updated$' <<<"$out")" 150 "copies reported updated"
  expect_match "$err" "configmaps\?limit=50&continue=.* 410 "
  for ns in t1 t75 t150; do
    expect_eq "$(kc -n "$ns" get configmap app -o jsonpath='{.data.k}')" v2
  done
}

test_resync_namespace_without_list_rights_is_reported_not_fatal() {
  local src b c
  src=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  run kubectl cmsync sync "$src" "$b" "$c" --name app
  k -n "$src" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  k -n "$src" create role read --verb=get --resource=configmaps >/dev/null
  k -n "$src" create rolebinding read --role=read --user=cmsync-restricted >/dev/null
  k -n "$b" create role repair --verb=get,list,update --resource=configmaps >/dev/null
  k -n "$b" create rolebinding repair --role=repair --user=cmsync-restricted >/dev/null
  run kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" resync "$b" "$c"
  expect_rc 1
  expect_in "$out" "error: list configmaps in namespace \"$c\": forbidden (check RBAC)"
  expect_in "$out" "$b/app: updated"
  expect_eq "$(cm_key "$b" app k)" v2
  expect_eq "$(cm_key "$c" app k)" v1
}

test_resync_usage_errors() {
  run kubectl cmsync resync
  expect_rc 2
  expect_in "$err" "error: no namespace"
  run kubectl cmsync resync a -A
  expect_rc 2
}
