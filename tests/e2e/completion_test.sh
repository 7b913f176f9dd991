# Completion (issue 7): kubectl's plugin completion protocol against the control plane, and the
# shell scripts checked against what the binary generates.

complete_words() { kubectl_complete-cmsync "$@" 2>/dev/null; }

test_completion_commands_flags_and_values() {
  export PATH="$CMSYNC_SOURCE_DIR/completions:$PATH"
  run complete_words ""
  expect_eq "$(sort <<<"$out" | paste -sd,)" ":4,completion,diff,resync,sync,validate,version,watch"
  run complete_words sync --dry
  expect_eq "$out" $'--dry-run\n:4'
  run complete_words sync a b --dry-run ""
  expect_eq "$out" $'none\nclient\nserver\n:4'
  run complete_words diff -o j
  expect_eq "$out" $'json\n:4'
  run complete_words diff --output=
  expect_eq "$out" $'--output=text\n--output=json\n:4'
  run complete_words sync --kubeconfig ""
  expect_eq "$out" ":0"
  # rules files complete as files
  run complete_words sync -f ""
  expect_eq "$out" ":0"
  run complete_words validate --filename ""
  expect_eq "$out" ":0"
}

test_completion_namespaces_names_and_keys_from_the_cluster() {
  export PATH="$CMSYNC_SOURCE_DIR/completions:$PATH"
  local a
  a=$(new_ns compl)
  k -n "$a" create configmap app-config --from-literal=config.yaml=x --from-literal=log.level=y >/dev/null
  k -n "$a" create configmap other --from-literal=z=1 >/dev/null
  run complete_words sync "${a:0:8}"
  expect_in "$out" "$a"
  expect_not_in "$out" "kube-system"
  # a namespace already given (the source) is not offered again as a target
  run complete_words sync "$a" "${a:0:8}"
  expect_not_in "$out" "$a"
  run complete_words -n "$a" sync "${a:0:8}"
  expect_not_in "$out" "$a"
  run complete_words sync "$a" dst --name ""
  expect_eq "$(grep -v kube-root <<<"$out" | paste -sd,)" "app-config,other,:4"
  run complete_words sync "$a" dst --name app-config --keys ""
  expect_eq "$out" $'config.yaml\nlog.level\n:4'
  run complete_words -n "$a" diff dst --name o
  expect_eq "$out" $'other\n:4'
  # --kind secret: Secret names and key names, never a value
  k -n "$a" create secret generic tls-bundle --from-literal=ca.crt=canary-value-4711 >/dev/null
  run complete_words sync "$a" dst --kind ""
  expect_eq "$out" $'configmap\nsecret\n:4'
  run complete_words sync "$a" dst --kind secret --name ""
  expect_eq "$(paste -sd, <<<"$out")" "tls-bundle,:4"
  run complete_words sync "$a" dst --kind secret --name tls-bundle --keys ""
  expect_eq "$out" $'ca.crt\n:4'
  expect_not_in "$out$err" "canary-value-4711"
  # through kubectl itself
  run kubectl __complete cmsync sync "$a" dst --name app-config --keys ""
  expect_in "$out" "config.yaml"
  expect_in "$out" "log.level"
  # silent on failure
  run complete_words --server https://127.0.0.1:1 sync ""
  expect_rc 0
  expect_eq "$out" ":4"
  expect_eq "$err" ""
}

test_completion_scripts_match_the_binary() {
  for shell in bash zsh fish; do
    run kubectl-cmsync completion "$shell"
    expect_rc 0
    expect_eq "$out" "$(cat "$CMSYNC_SOURCE_DIR/completions/kubectl-cmsync.$shell")" "completions/kubectl-cmsync.$shell is stale: regenerate it"
  done
  # bash: the script completes through the binary
  run bash -c "source '$CMSYNC_SOURCE_DIR/completions/kubectl-cmsync.bash'; COMP_WORDS=(kubectl-cmsync sync --dry-run ''); COMP_CWORD=3; _kubectl_cmsync; printf '%s\n' \"\${COMPREPLY[@]}\""
  expect_eq "$out" $'none\nclient\nserver'
}
