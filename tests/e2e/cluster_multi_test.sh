# Across clusters (issue 30): a hub and two member control planes, each with its own CA and
# users, in one kubeconfig; cmsync's results are checked with kubectl against each cluster.

test_member_clusters_are_three_planes_with_their_own_cas() {
  local member_a member_b clusters
  member_clusters
  run kubectl --kubeconfig "$clusters" config get-contexts -o name
  expect_eq "$(sort <<<"$out" | tr '\n' ' ')" "hub member-a member-b member-b-restricted "
  local servers
  servers=$(for c in hub member-a member-b; do kubectl --kubeconfig "$clusters" --context "$c" \
    config view --minify -o jsonpath='{.clusters[0].cluster.server}'; echo; done | sort -u | wc -l)
  expect_eq "$servers" 3 "three API servers"
  # each CA signed its own serving certificate only: another plane's CA is refused
  [[ "$(openssl x509 -in "$member_a/pki/ca.crt" -noout -fingerprint)" != \
     "$(openssl x509 -in "$member_b/pki/ca.crt" -noout -fingerprint)" ]] || fail "members share a CA"
  run kubectl --kubeconfig "$clusters" --context member-a --certificate-authority "$member_b/pki/ca.crt" get ns
  expect_rc 1
  # every context reaches its own plane: a namespace made in one is seen there only
  local ns=multi-$RANDOM
  ka create namespace "$ns" >/dev/null
  run ka get namespace "$ns" -o name
  expect_rc 0
  run kb get namespace "$ns"
  expect_rc 1
  run kh get namespace "$ns"
  expect_rc 1
  run kubectl --kubeconfig "$clusters" --context member-b-restricted get configmaps -n default
  expect_rc 1
  expect_in "$err" 'User "cmsync-restricted" cannot list resource "configmaps"'
}
