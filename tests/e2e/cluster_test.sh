# The control plane itself and plugin discovery (issue 2).

test_admin_lists_namespaces() {
  run k get namespaces -o name
  expect_rc 0
  expect_in "$out" "namespace/kube-system"
  expect_in "$out" "namespace/default"
}

test_restricted_user_is_forbidden() {
  run kubectl --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" get configmaps -n default
  expect_rc 1
  expect_in "$err" 'User "cmsync-restricted" cannot list resource "configmaps"'
}

test_server_reports_real_release() {
  run k version -o json
  expect_rc 0
  expect_match "$(jqv "$out" .serverVersion.gitVersion)" '^v1\.[0-9]+\.[0-9]+$'
  expect_eq "$(jqv "$out" .serverVersion.gitVersion)" "$(jqv "$out" .clientVersion.gitVersion)"
}

test_plugin_discovery_runs_version() {
  run kubectl plugin list
  expect_in "$out" "$CMSYNC_BUILD_DIR/cmd/kubectl-cmsync/kubectl-cmsync"
  run kubectl cmsync version
  expect_rc 0
  expect_eq "$out" "kubectl-cmsync $(cd "$CMSYNC_SOURCE_DIR" && meson introspect --projectinfo "$CMSYNC_BUILD_DIR" | jq -r .version)"
}

test_help_lists_commands() {
  run kubectl cmsync --help
  expect_rc 0
  expect_in "$out" "diff"
  expect_in "$out" "version"
}
