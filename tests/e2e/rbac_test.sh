# deploy/rbac (issue 7): the least-privilege Roles of SPEC.md, applied as shipped, are enough
# for diff, sync, watch and resync as the restricted user.

test_rbac_examples_are_enough_for_every_command() {
  local a b c rbac=$CMSYNC_SOURCE_DIR/deploy/rbac
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" apply -f "$rbac/source-reader.yaml" >/dev/null
  for ns in "$b" "$c"; do k -n "$ns" apply -f "$rbac/target-writer.yaml" >/dev/null; done
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  k -n "$c" create configmap app-config --from-literal=own=1 >/dev/null
  local as=(--kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG")
  run kubectl cmsync "${as[@]}" diff "$a" "$b" "$c" --name app-config
  expect_rc 1
  run kubectl cmsync "${as[@]}" sync "$a" "$b" "$c" --name app-config
  expect_rc 0
  expect_eq "$(cm_key "$b" app-config config.yaml)" v1
  expect_eq "$(cm_key "$c" app-config own)" 1
  start_watch "${as[@]}" "$a" "$b" "$c" --name app-config --watch-scope namespaces
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  wait_for 20 key_is "$b" app-config config.yaml v2
  wait_for 20 key_is "$c" app-config config.yaml v2
  stop_watch INT
  k -n "$b" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v1"},"metadata":{"annotations":{"cmsync.io/last-synced":"{\"config.yaml\":\"'"$(sha256 v1)"'\"}"}}}' >/dev/null
  run kubectl cmsync "${as[@]}" resync "$b" "$c"
  expect_rc 0
  expect_eq "$(cm_key "$b" app-config config.yaml)" v2
  # without the pruner Role a prune that must delete is refused; with it, it works
  k -n "$a" delete configmap app-config >/dev/null
  run kubectl cmsync "${as[@]}" resync "$b" --prune
  expect_rc 1
  expect_in "$out" "delete configmaps \"app-config\" in namespace \"$b\": forbidden (check RBAC)"
  k -n "$b" apply -f "$rbac/target-pruner.yaml" >/dev/null
  run kubectl cmsync "${as[@]}" resync "$b" --prune
  expect_rc 0
  run k -n "$b" get configmap app-config
  expect_rc 1
}

test_namespace_roles_only_fan_out_falls_back_from_cluster_list_to_gets() {
  # 50 targets make sync try one cluster-wide list of the copies; with namespace Roles only
  # that list is forbidden, and the copies are read with a GET per namespace instead.
  local a rbac=$CMSYNC_SOURCE_DIR/deploy/rbac suffix=$RANDOM$RANDOM targets=()
  a=$(new_ns src)
  k -n "$a" apply -f "$rbac/source-reader.yaml" >/dev/null
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  for i in $(seq 1 50); do targets+=("rb-$suffix-$i"); done
  printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "${targets[@]}" | k apply -f - >/dev/null
  for ns in "${targets[@]}"; do
    sed "s/^metadata:/metadata:\n  namespace: $ns/" "$rbac/target-writer.yaml"
    echo "---"
  done | k apply -f - >/dev/null
  k -n "${targets[0]}" create configmap app-config --from-literal=own=1 >/dev/null
  run kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" sync "$a" "${targets[@]}" --name app-config -o json -v 6
  expect_rc 0
  expect_eq "$(grep -cE 'GET https://[^ ]+/api/v1/configmaps\?limit=500&fieldSelector=metadata.name%3Dapp-config 403' <<<"$err")" 1 "forbidden cluster-wide list"
  expect_eq "$(grep -cE "GET https://[^ ]+/namespaces/rb-$suffix-[0-9]+/configmaps/app-config (200|404)" <<<"$err")" 50 "per-namespace GETs"
  expect_eq "$(jqv "$out" '.summary.created')" 49
  expect_eq "$(jqv "$out" '.summary.updated')" 1
  local found
  found=$(k get configmaps -A -l cmsync.io/managed=true -o json |
    jq --arg src "$a/app-config" '[.items[] | select(.metadata.annotations["cmsync.io/sync-from"] == $src and .data["config.yaml"] == "v1")] | length')
  expect_eq "$found" 50 "copies verified by kubectl"
  expect_eq "$(cm_key "${targets[0]}" app-config own)" 1
}

test_rbac_positional_watch_of_a_forbidden_source_ends_with_its_error() {
  # the positional form is one rule of the watchers; its failure ends the run (a rules file's
  # rule would retry)
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  run timeout 30 kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" watch "$a" "$b" --name app-config
  [[ "$rc" != 124 ]] || fail "watch kept running"
  expect_rc 2
  expect_in "$err" "forbidden (check RBAC)"
}
