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
