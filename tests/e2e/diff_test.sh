# `kubectl cmsync diff` against the real apiserver (issue 3). State is made and checked with
# kubectl; cmsync only plans.

config_v1=$'log: info\nport: 8080\nfeatures:\n  a: true\n'

test_diff_fresh_targets_plan_create() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml="$config_v1" \
    --from-literal=extra=1 >/dev/null
  run kubectl cmsync diff "$a" "$b" "$c" --name app-config --keys config.yaml -o json
  expect_rc 1
  expect_eq "$(jqv "$out" '[.targets[].action] | join(",")')" "create,create"
  expect_eq "$(jqv "$out" '[.targets[].namespace] | sort | join(",")')" "$(printf '%s\n' "$b" "$c" | sort | paste -sd,)"
  expect_eq "$(jqv "$out" '[.targets[0].keys[] | .key + ":" + .change] | join(",")')" "config.yaml:add"
  # diff writes nothing
  run k -n "$b" get configmap app-config
  expect_rc 1
}

test_diff_in_step_exits_zero() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml="$config_v1" --from-literal=x=1 >/dev/null
  make_copy "$b" "$a" app-config "config.yaml=$config_v1" x=1
  run kubectl cmsync diff "$a" "$b" --name app-config
  expect_rc 0
  expect_in "$out" "$b/app-config: unchanged"
}

test_diff_one_changed_key_shows_only_that_key() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml="$config_v1" --from-literal=x=1 >/dev/null
  make_copy "$b" "$a" app-config "config.yaml=$config_v1" x=1
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"log: debug\nport: 8080\nfeatures:\n  a: true\n"}}' >/dev/null
  run kubectl cmsync diff "$a" "$b" --name app-config --color never
  expect_rc 1
  expect_in "$out" "$b/app-config: update (modify config.yaml)"
  expect_in "$out" "-log: info"
  expect_in "$out" "+log: debug"
  expect_in "$out" "@@ -1,4 +1,4 @@"
  expect_not_in "$out" ":x"
  run kubectl cmsync diff "$a" "$b" --name app-config -o json
  expect_eq "$(jqv "$out" '[.targets[0].keys[] | select(.change != "unchanged") | .key] | join(",")')" "config.yaml"
}

test_diff_hand_edit_and_foreign_owner_are_conflicts() {
  local a other b c
  a=$(new_ns src); other=$(new_ns other); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml="$config_v1" >/dev/null
  make_copy "$b" "$a" app-config "config.yaml=$config_v1"
  k -n "$b" patch configmap app-config --type merge -p '{"data":{"config.yaml":"edited by hand\n","mine":"kept"}}' >/dev/null
  make_copy "$c" "$other" app-config "config.yaml=$config_v1"
  run kubectl cmsync diff "$a" "$b" "$c" --name app-config -o json
  expect_rc 1
  expect_eq "$(jqv "$out" ".targets[] | select(.namespace == \"$b\") | .action")" conflict
  expect_eq "$(jqv "$out" ".targets[] | select(.namespace == \"$b\") | .keys[] | select(.key == \"config.yaml\") | .change")" conflict
  # the target's own key never appears in the plan
  expect_eq "$(jqv "$out" "[.targets[] | select(.namespace == \"$b\") | .keys[].key] | join(\",\")")" "config.yaml"
  expect_eq "$(jqv "$out" ".targets[] | select(.namespace == \"$c\") | .action")" conflict
  expect_eq "$(jqv "$out" ".targets[] | select(.namespace == \"$c\") | .message")" "owned by $other/app-config"
  # --force turns both into updates
  run kubectl cmsync diff "$a" "$b" "$c" --name app-config --force -o json
  expect_eq "$(jqv "$out" '[.targets[].action] | join(",")')" "update,update"
}

test_diff_all_pages_through_1200_configmaps() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  for i in $(seq 1 1200); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%04d, namespace: %s}\ndata: {k: "v%d"}\n' "$i" "$a" "$i"
  done >"$T/many.yaml"
  k apply --server-side -f "$T/many.yaml" >/dev/null
  run kubectl cmsync diff "$a" "$b" --all --chunk-size 500 -o json -v 6
  expect_rc 1
  expect_eq "$(jqv "$out" '.targets | length')" 1200
  expect_eq "$(jqv "$out" '[.targets[] | select(.action == "create")] | length')" 1200
  local pages
  pages=$(grep -cE "GET https://[^ ]+/api/v1/namespaces/$a/configmaps\?limit=500" <<<"$err")
  expect_eq "$pages" 3 "source list pages"
  expect_eq "$(grep -cE "$a/configmaps\?limit=500&continue=" <<<"$err")" 2 "source continue pages"
  expect_eq "$(grep -cE "$b/configmaps\?limit=500" <<<"$err")" 1 "one page of the empty target"
}

test_diff_restricted_user_gets_403_naming_target() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  for ns in "$a" "$b"; do
    k -n "$ns" create role cm-read --verb=get,list --resource=configmaps >/dev/null
    k -n "$ns" create rolebinding cm-read --role=cm-read --user=cmsync-restricted >/dev/null
  done
  run kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" diff "$a" "$b" "$c" --name app-config
  expect_rc 2
  expect_in "$out" "$b/app-config: create"
  expect_in "$out" "$c/app-config: error: get configmaps \"app-config\" in namespace \"$c\": forbidden (check RBAC)"
}

test_diff_auth_token_exec_and_wrong_ca() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  for ns in "$a" "$b"; do
    k -n "$ns" create role cm-read --verb=get,list --resource=configmaps >/dev/null
    k -n "$ns" create rolebinding cm-read --role=cm-read --user=cmsync-token-user >/dev/null
  done
  # bearer token from the kubeconfig
  run kubectl cmsync --kubeconfig "$CMSYNC_TOKEN_KUBECONFIG" diff "$a" "$b" --name app-config
  expect_rc 1
  expect_in "$out" "$b/app-config: create"
  # the same token from an exec credential plugin
  local token
  token=$(cat "$CMSYNC_CLUSTER_DIR/pki/token")
  cat >"$T/plugin" <<PLUGIN
#!/bin/sh
echo "\$KUBERNETES_EXEC_INFO" >"$T/exec-info"
echo ran >>"$T/exec-runs"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$token"
PLUGIN
  chmod +x "$T/plugin"
  sed -e '/^users:/,$d' "$CMSYNC_TOKEN_KUBECONFIG" >"$T/exec.kubeconfig"
  cat >>"$T/exec.kubeconfig" <<KCFG
users:
- name: token-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $T/plugin
      interactiveMode: Never
      provideClusterInfo: true
KCFG
  run kubectl cmsync --kubeconfig "$T/exec.kubeconfig" diff "$a" "$b" --name app-config -v 8
  expect_rc 1
  expect_in "$out" "$b/app-config: create"
  expect_eq "$(wc -l <"$T/exec-runs")" 1 "plugin runs (cached for the whole command)"
  expect_eq "$(jq -r .spec.cluster.server "$T/exec-info")" "$(cat "$CMSYNC_CLUSTER_DIR/server")"
  expect_not_in "$err" "$token"
  expect_in "$err" "Authorization: Bearer <masked>"
  # a wrong CA: a TLS error naming the server
  run kubectl cmsync --kubeconfig "$CMSYNC_ADMIN_KUBECONFIG" \
    --certificate-authority "$CMSYNC_CLUSTER_DIR/pki/other-ca.crt" diff "$a" "$b" --name app-config
  expect_rc 2
  expect_in "$err" "error: TLS failure with $(cat "$CMSYNC_CLUSTER_DIR/server")"
  expect_eq "$(wc -l <<<"$err")" 1 "one-line error"
}

test_diff_missing_context_names_file_and_context() {
  sed 's/^current-context: .*/current-context: nope/' "$CMSYNC_ADMIN_KUBECONFIG" >"$T/bad.kubeconfig"
  run kubectl cmsync --kubeconfig "$T/bad.kubeconfig" diff a b --name x
  expect_rc 2
  expect_in "$err" "$T/bad.kubeconfig"
  expect_in "$err" 'context "nope" not found'
  run kubectl cmsync --kubeconfig "$CMSYNC_ADMIN_KUBECONFIG" --context gone diff a b --name x
  expect_rc 2
  expect_in "$err" 'context "gone" not found'
}

test_diff_usage_errors_exit_2_before_any_request() {
  local cases=(
    "diff ns-a ns-b"
    "diff ns-a ns-b --name x --all"
    "diff ns-a --name x"
    "diff ns-a ns-a --name x"
    "diff -n ns-a ns-b ns-a --name x"
    "diff Bad_NS ns-b --name x"
    "diff ns-a ns-b --name Bad_Name"
    "diff ns-a ns-b --name x --keys bad/key"
    "diff ns-a ns-b --name x --bogus-flag"
    "diff ns-a ns-b --name x -o yaml"
    "diff ns-a ns-b --name x --request-timeout forever"
    "diff ns-a ns-b --name x --chunk-size abc"
    "diff ns-a ns-b --name x --chunk-size 0"
    "diff ns-a ns-b --name x --chunk-size 1.5"
    "diff ns-a ns-b --name x --concurrency 300"
    "diff ns-a ns-b --name x -v loud"
  )
  for c in "${cases[@]}"; do
    # shellcheck disable=SC2086
    run kubectl cmsync $c -v 6
    expect_rc 2
    expect_eq "$(request_lines "$err" | wc -l)" 0 "requests sent for: $c"
    expect_match "$err" '^error: '
    expect_eq "$(wc -l <<<"$err")" 1 "one-line error for: $c"
    (( ${#err} < 240 )) || fail "a short error for: $c"
  done
  run kubectl cmsync diff ns-a ns-b --name x --chunk-size abc
  expect_eq "$err" "error: --chunk-size: must be a positive integer, got \"abc\" (see 'kubectl cmsync --help')"
}

test_diff_and_client_dry_run_report_a_missing_target_namespace_as_sync_does() {
  local a b missing
  a=$(new_ns src); b=$(new_ns dst); missing=nowhere-$RANDOM$RANDOM
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  local expected="$missing/app-config: error: create configmaps \"app-config\" in namespace \"$missing\": not found: namespaces \"$missing\" not found"
  run kubectl cmsync sync "$a" "$b" "$missing" --name app-config --dry-run=client
  expect_rc 1
  expect_in "$out" "$b/app-config: created"
  expect_in "$out" "$expected"
  run kubectl cmsync diff "$a" "$b" "$missing" --name app-config
  expect_rc 2
  expect_in "$out" "$b/app-config: create"
  expect_in "$out" "$expected"
  # the real run fails that target in the same words
  run kubectl cmsync sync "$a" "$b" "$missing" --name app-config
  expect_rc 1
  expect_in "$out" "$expected"
  # with namespace Roles only (no right to read namespaces) the prediction holds
  local rbac=$CMSYNC_SOURCE_DIR/deploy/rbac c
  c=$(new_ns dst)
  k -n "$a" apply -f "$rbac/source-reader.yaml" >/dev/null
  k -n "$c" apply -f "$rbac/target-writer.yaml" >/dev/null
  run kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" diff "$a" "$c" --name app-config -o json
  expect_rc 1
  expect_eq "$(jqv "$out" '.targets[0].action')" create
  run k -n "$c" get configmap app-config
  expect_rc 1
}
