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

# ConfigMap writes in namespace web in a cluster's audit log.
configmap_writes() {  # cluster_dir
  jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps"
    and .objectRef.namespace == "web"
    and (.verb == "create" or .verb == "update" or .verb == "patch" or .verb == "delete")) | .verb' \
    "$1/audit.log" | wc -l
}
# ConfigMap writes of namespace web after audit log line MARK of a cluster, "verb code" each.
configmap_writes_since() {  # cluster_dir mark
  tail -n "+$(($2 + 1))" "$1/audit.log" |
    jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps"
      and .objectRef.namespace == "web"
      and (.verb == "create" or .verb == "update" or .verb == "patch" or .verb == "delete"))
      | "\(.verb) \(.responseStatus.code)"'
}

test_clusters_diff_predicts_sync_which_writes_managed_keys_into_both_members() {
  local member_a member_b clusters
  member_clusters
  local src
  src=$(new_ns src)  # the hub is the suite's cluster, shared by every test
  kh -n "$src" create configmap app-config --from-literal=config.yaml=$'log: info\n' --from-literal=hub-only=x >/dev/null
  ka create namespace web >/dev/null; kb create namespace web >/dev/null
  ka -n web create configmap app-config --from-literal=local=mine >/dev/null
  local cmd=(kubectl cmsync --kubeconfig "$clusters" --source-context hub
    --target-context member-a,member-b "$src" web --name app-config --keys config.yaml)
  # diff across clusters: what sync will do, per cluster, and nothing written
  run kubectl cmsync diff "${cmd[@]:2}" -o json
  expect_rc 1
  expect_eq "$(jqv "$out" '[.targets[] | "\(.cluster)/\(.namespace)/\(.name) \(.action) \([.keys[] | "\(.change) \(.key)"] | join(","))"] | sort | join(";")')" \
    "member-a/web/app-config update add config.yaml;member-b/web/app-config create add config.yaml"
  expect_eq "$(member_key ka web app-config config.yaml)" "<absent>"
  expect_eq "$(member_key kb web app-config config.yaml)" "<absent>"
  run kubectl cmsync diff "${cmd[@]:2}"
  expect_rc 1
  expect_in "$out" "member-a/web/app-config: update (add config.yaml)"
  expect_in "$out" "+++ hub/$src/app-config:config.yaml"
  # sync writes the managed key into both members, and nothing else
  run kubectl cmsync sync "${cmd[@]:2}"
  expect_rc 0
  expect_in "$out" "member-a/web/app-config: updated (add config.yaml)"
  expect_in "$out" "member-b/web/app-config: created (add config.yaml)"
  local m
  for m in ka kb; do
    expect_eq "$(member_key $m web app-config config.yaml)" 'log: info' "$m"
    expect_eq "$(member_key $m web app-config hub-only)" "<absent>" "$m"
    expect_eq "$(member_annotation $m web app-config cmsync.io/sync-from)" "$src/app-config"
    expect_eq "$(member_annotation $m web app-config cmsync.io/sync-from-cluster)" hub
    expect_eq "$(member_annotation $m web app-config cmsync.io/last-synced | jq -r '.["config.yaml"]')" "$(sha256 $'log: info\n')"
  done
  expect_eq "$(member_key ka web app-config local)" mine
  [[ "$(kh get namespace web -o name 2>/dev/null)" == "" ]] || fail "the hub got a web namespace"
  # in step: diff says so, and sync writes nothing (each member's audit log)
  run kubectl cmsync diff "${cmd[@]:2}"
  expect_rc 0
  local writes_a writes_b
  writes_a=$(configmap_writes "$member_a"); writes_b=$(configmap_writes "$member_b")
  expect_eq "$writes_a" 2 "member-a: the test's create and cmsync's update"
  run kubectl cmsync sync "${cmd[@]:2}"
  expect_rc 0
  expect_in "$out" "2 targets: 2 unchanged"
  expect_eq "$(configmap_writes "$member_a")" "$writes_a" "member-a writes"
  expect_eq "$(configmap_writes "$member_b")" "$writes_b" "member-b writes"

  # a hand edit in member-a, then a source change: member-a keeps the edit (conflict), member-b follows
  ka -n web patch configmap app-config --type merge -p '{"data":{"config.yaml":"log: debug\n"}}' >/dev/null
  kh -n "$src" patch configmap app-config --type merge -p '{"data":{"config.yaml":"log: warn\n"}}' >/dev/null
  run kubectl cmsync diff "${cmd[@]:2}"
  expect_rc 1
  expect_in "$out" "member-a/web/app-config: conflict (conflict config.yaml)"
  expect_in "$out" "member-b/web/app-config: update (modify config.yaml)"
  run kubectl cmsync sync "${cmd[@]:2}"
  expect_rc 1
  expect_in "$out" "member-a/web/app-config: conflict (conflict config.yaml): managed keys in conflict"
  expect_in "$out" "member-b/web/app-config: updated (modify config.yaml)"
  expect_eq "$(member_key ka web app-config config.yaml)" 'log: debug'
  expect_eq "$(member_key kb web app-config config.yaml)" 'log: warn'

  # the cross-source guard: member-b's own src/app-config is another source than the hub's
  kb create namespace "$src" >/dev/null
  kb -n "$src" create configmap app-config --from-literal=config.yaml=local-source >/dev/null
  run kubectl cmsync --kubeconfig "$clusters" --context member-b sync "$src" web --name app-config
  expect_rc 1
  expect_in "$out" "web/app-config: conflict: owned by hub/$src/app-config"
  expect_eq "$(member_key kb web app-config config.yaml)" 'log: warn'
  # a version before clusters still reads sync-from as NAMESPACE/NAME
  expect_match "$(member_annotation kb web app-config cmsync.io/sync-from)" '^[a-z0-9-]+/[a-z0-9.-]+$'

  # resync in member-b reads the source in the hub (the context named as the recorded cluster),
  # not member-b's namesake
  kh -n "$src" patch configmap app-config --type merge -p '{"data":{"config.yaml":"log: error\n"}}' >/dev/null
  run kubectl cmsync --kubeconfig "$clusters" --context member-b resync web
  expect_rc 0
  expect_in "$out" "web/app-config: updated"
  expect_eq "$(member_key kb web app-config config.yaml)" 'log: error'
  expect_eq "$(member_annotation kb web app-config cmsync.io/sync-from-cluster)" hub
  expect_eq "$(member_key ka web app-config config.yaml)" 'log: debug'
}

test_clusters_rules_file_names_clusters_and_an_unknown_one_is_a_usage_error() {
  local member_a member_b clusters
  member_clusters
  local src
  src=$(new_ns src)  # the hub is the suite's cluster, shared by every test
  kh -n "$src" create configmap ca-bundle --from-literal=ca.crt=CA1 >/dev/null
  ka create namespace svc >/dev/null; kb create namespace svc >/dev/null
  cat >"$T/rules.yaml" <<RULES
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
clusters:
  - {name: platform, context: hub}
  - {name: prod-eu, context: member-a}
  - {name: prod-us, context: member-b}
rules:
  - name: ca
    source: {cluster: platform, namespace: $src, names: [ca-bundle]}
    targets: {clusters: [prod-eu, prod-us], namespaces: [svc, $src]}
RULES
  run kubectl cmsync --kubeconfig "$clusters" validate -f "$T/rules.yaml"
  expect_rc 0
  # the JSON Schema editors use agrees (python3-jsonschema), and refuses what validate refuses
  local check='import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
print(len(list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(sys.stdin)))))'
  local schema=$CMSYNC_SOURCE_DIR/schema/syncconfig.json
  expect_eq "$(/usr/bin/python3 -c "$check" "$schema" <"$T/rules.yaml")" 0 "schema errors"
  local mistake
  for mistake in 's/context: member-a}/context: member-a, server: x}/' 's/name: prod-eu,/name: Prod_EU,/' \
    's/clusters: \[prod-eu, prod-us\]/clusters: prod-eu/' 's/{cluster: platform,/{cluster: [platform],/'; do
    sed "$mistake" "$T/rules.yaml" >"$T/bad.yaml"
    (( $(/usr/bin/python3 -c "$check" "$schema" <"$T/bad.yaml") >= 1 )) || fail "the schema accepts: $mistake"
    run kubectl cmsync validate -f "$T/bad.yaml"
    expect_rc 2
  done
  run kubectl cmsync --kubeconfig "$clusters" sync -f "$T/rules.yaml"
  expect_rc 1  # src exists in neither member: those two targets fail, the others are done
  expect_in "$out" "ca/prod-eu/svc/ca-bundle: created (add ca.crt)"
  expect_in "$out" "ca/prod-us/svc/ca-bundle: created (add ca.crt)"
  expect_match "$out" "ca/prod-eu/$src/ca-bundle: error: .*namespaces \"$src\" not found"
  expect_eq "$(member_key ka svc ca-bundle ca.crt)" CA1
  expect_eq "$(member_key kb svc ca-bundle ca.crt)" CA1
  expect_eq "$(member_annotation ka svc ca-bundle cmsync.io/sync-from-cluster)" platform
  # resync in a member: the recorded cluster "platform" is no context of the kubeconfig
  run kubectl cmsync --kubeconfig "$clusters" --context member-a resync svc
  expect_rc 1
  expect_in "$out" 'svc/ca-bundle: error: source is in cluster "platform" and the kubeconfig has no context of that name'
  expect_eq "$(member_key ka svc ca-bundle ca.crt)" CA1
  # two rules writing one copy, seen once the current context (hub = platform) is known
  cat >"$T/overlap.yaml" <<RULES
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
clusters: [{name: platform, context: hub}, {name: prod-eu, context: member-a}]
rules:
  - name: one
    source: {namespace: $src, names: [ca-bundle]}
    targets: {namespaces: [svc2]}
  - name: two
    source: {cluster: prod-eu, namespace: svc, names: [ca-bundle]}
    targets: {clusters: [platform], namespaces: [svc2]}
RULES
  run kubectl cmsync --kubeconfig "$clusters" validate -f "$T/overlap.yaml"
  expect_rc 0  # without a kubeconfig's current context, the two targets may be other clusters
  run kubectl cmsync --kubeconfig "$clusters" sync -f "$T/overlap.yaml" -v 6
  expect_rc 2
  expect_in "$err" "overlap.yaml:8:5: rules \"one\" and \"two\" would both manage ConfigMap platform/svc2/ca-bundle, from platform/$src/ca-bundle and prod-eu/svc/ca-bundle"
  expect_eq "$(request_lines "$err" | wc -l)" 0 "requests"
  # an unknown context: exit 2, naming it, before any request
  sed -i 's/context: member-b}/context: member-c}/' "$T/rules.yaml"
  run kubectl cmsync --kubeconfig "$clusters" sync -f "$T/rules.yaml" -v 6
  expect_rc 2
  expect_in "$err" "unknown context \"member-c\" (cluster \"prod-us\"): the kubeconfig has hub, member-a, member-b, member-b-restricted"
  expect_eq "$(request_lines "$err" | wc -l)" 0 "requests"
  # an unknown cluster name: the validator's error with its position
  sed -i 's/clusters: \[prod-eu, prod-us\]/clusters: [prod-eu, prod-asia]/' "$T/rules.yaml"
  run kubectl cmsync --kubeconfig "$clusters" diff -f "$T/rules.yaml"
  expect_rc 2
  expect_in "$err" "rules.yaml:10:35: rules[0].targets.clusters[1]: unknown cluster \"prod-asia\" (clusters: platform, prod-eu, prod-us)"
  # and on the command line
  run kubectl cmsync --kubeconfig "$clusters" diff "$src" svc --name ca-bundle --source-context hub --target-context member-a,nope -v 6
  expect_rc 2
  expect_in "$err" "unknown context \"nope\""
  expect_eq "$(request_lines "$err" | wc -l)" 0 "requests"
  run kubectl cmsync --kubeconfig "$clusters" watch "$src" svc --name ca-bundle \
    --target-context member-a,nope -v 6
  expect_rc 2
  expect_in "$err" "unknown context \"nope\""
  expect_eq "$(request_lines "$err" | wc -l)" 0 "requests"
  # the positional watch: a watcher per target cluster, each with a state file of its own
  ka create namespace pos >/dev/null; kb create namespace pos >/dev/null
  start_watch --kubeconfig "$clusters" "$src" pos --name ca-bundle --source-context hub \
    --target-context member-a,member-b --state-file "$T/state"
  ca_in_pos() { [[ "$(member_key "$1" pos ca-bundle ca.crt)" == CA1 ]]; }
  wait_for 20 ca_in_pos ka
  wait_for 20 ca_in_pos kb
  stop_watch TERM
  expect_in "$(cat "$T/watch.out")" "member-b/pos/ca-bundle created (add ca.crt)"
  local f
  for f in member-a member-b; do
    expect_eq "$(jq -r '.resourceVersions | keys | join(",")' "$T/state.$f")" "pos,source:$src" "$f"
  done
  [[ ! -e "$T/state" ]] || fail "one state file for both clusters"
  expect_eq "$(member_annotation ka pos ca-bundle cmsync.io/sync-from-cluster)" hub
}

test_clusters_a_forbidden_member_and_a_member_down_fail_alone() {
  local member_a member_b clusters
  member_clusters
  local src
  src=$(new_ns src)  # the hub is the suite's cluster, shared by every test
  kh -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  ka create namespace web >/dev/null; kb create namespace web >/dev/null
  # member-b as a user no Role is bound to: its target fails, member-a's is written
  run kubectl cmsync --kubeconfig "$clusters" sync "$src" web --name app --source-context hub \
    --target-context member-a,member-b-restricted
  expect_rc 1
  expect_in "$out" "member-a/web/app: created (add k)"
  expect_match "$out" 'member-b-restricted/web/app: error: get configmaps "app" in namespace "web": forbidden \(check RBAC\)'
  expect_eq "$(member_key ka web app k)" v1
  expect_eq "$(member_key kb web app k)" "<absent>"
  # member-b's apiserver down: member-a is still written, member-b's target fails, exit 1
  kh -n "$src" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  kill "$(cat "$member_b/apiserver.pid")"
  wait_for 20 bash -c "! kill -0 $(cat "$member_b/apiserver.pid") 2>/dev/null"
  local start=$SECONDS
  run kubectl cmsync --kubeconfig "$clusters" sync "$src" web --name app --source-context hub \
    --target-context member-a,member-b -o json
  expect_rc 1
  (( SECONDS - start < 60 )) || fail "a member down held the run for $((SECONDS - start)) s"
  expect_eq "$(jqv "$out" '.targets[] | select(.cluster == "member-a") | .result')" updated
  expect_eq "$(jqv "$out" '.targets[] | select(.cluster == "member-b") | .result')" error
  expect_match "$(jqv "$out" '.targets[] | select(.cluster == "member-b") | .error')" 'https://127\.0\.0\.1:[0-9]+'
  expect_eq "$(member_key ka web app k)" v2
  # back up: it converges on the next run
  "$CMSYNC_SOURCE_DIR/tests/cluster/start-apiserver" "$member_b"
  run kubectl cmsync --kubeconfig "$clusters" sync "$src" web --name app --source-context hub \
    --target-context member-a,member-b
  expect_rc 0
  expect_in "$out" "member-a/web/app: unchanged"
  expect_in "$out" "member-b/web/app: created (add k)"
  expect_eq "$(member_key kb web app k)" v2
  # the source's cluster down is the command's failure (exit 2)
  kill "$(cat "$member_a/apiserver.pid")"
  wait_for 20 bash -c "! kill -0 $(cat "$member_a/apiserver.pid") 2>/dev/null"
  run kubectl cmsync --kubeconfig "$clusters" sync web web --name app --source-context member-a \
    --target-context member-b
  expect_rc 2
  expect_in "$err" "error: cannot reach"
}

# watch across clusters: a watcher per rule and member, each on its own connection. One member's
# apiserver is killed for 30 s while the source changes twice: the other member follows at
# once, the stopped one catches up when it returns with one write; /readyz names it meanwhile.
test_clusters_watch_each_member_on_its_own() {
  local member_a member_b clusters
  member_clusters
  app_is() { [[ "$(member_key "$1" web app-config k)" == "$2" ]]; }  # ka|kb value
  readyz() { curl -s -w ' %{http_code}' "http://127.0.0.1:$port/readyz"; }
  ready_is() { [[ "$(readyz)" == *" $1" ]]; }
  local src port m start
  src=$(new_ns src)  # the hub is the suite's cluster, shared by every test
  kh -n "$src" create configmap app-config --from-literal=k=v1 --from-literal=hub-only=x >/dev/null
  kh -n "$src" create configmap other --from-literal=k=o1 >/dev/null
  ka create namespace web >/dev/null; kb create namespace web >/dev/null
  ka -n web create configmap app-config --from-literal=local=mine >/dev/null
  cat >"$T/rules.yaml" <<RULES
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
clusters: [{name: hub, context: hub}, {name: member-a, context: member-a},
  {name: member-b, context: member-b}, {name: restricted, context: member-b-restricted}]
rules:
  - name: app
    source: {cluster: hub, namespace: $src, names: [app-config]}
    targets: {clusters: [member-a, member-b], namespaces: [web]}
    keys: [k]
  - name: forbidden
    source: {cluster: hub, namespace: $src, names: [other]}
    targets: {clusters: [restricted], namespaces: [web]}
RULES
  start_watch --kubeconfig "$clusters" -f "$T/rules.yaml" --metrics-bind-address 127.0.0.1:0
  wait_for 20 grep -q 'serving /healthz' "$T/watch.err"
  port=$(sed -n 's/.*serving \/healthz.*(port \([0-9]*\)).*/\1/p' "$T/watch.err" | head -n 1)
  # both members get the managed key, recording the hub as the source's cluster, as sync does
  for m in ka kb; do
    wait_for 20 app_is $m v1
    expect_eq "$(member_annotation $m web app-config cmsync.io/sync-from)" "$src/app-config"
    expect_eq "$(member_annotation $m web app-config cmsync.io/sync-from-cluster)" hub
    expect_eq "$(member_key $m web app-config hub-only)" "<absent>" "$m: an unmanaged key"
  done
  expect_eq "$(member_key ka web app-config local)" mine
  wait_for 10 grep -q ' app/member-a/web/app-config updated (add k)' "$T/watch.out"
  wait_for 10 grep -q ' app/member-b/web/app-config created (add k)' "$T/watch.out"
  # the forbidden member fails its rule alone, said by cluster; the other rule is ready
  wait_for 20 grep -q 'rule forbidden, cluster restricted: cannot watch: .*not allowed to list and watch configmaps in namespace "web"' "$T/watch.err"
  wait_for 20 ready_is 200
  # a source change reaches both members
  kh -n "$src" patch configmap app-config --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  wait_for 10 app_is ka v2
  wait_for 10 app_is kb v2
  # member-b's apiserver killed for 30 s while the source changes twice
  local mark killed
  mark=$(wc -l <"$member_b/audit.log")
  # SIGKILL: a SIGTERM'd apiserver drains its open watches for longer than the test's budget
  kill -KILL "$(cat "$member_b/apiserver.pid")"
  wait_for 20 bash -c "! kill -0 $(cat "$member_b/apiserver.pid") 2>/dev/null"
  killed=$SECONDS
  for v in v3 v4; do
    kh -n "$src" patch configmap app-config --type merge -p "{\"data\":{\"k\":\"$v\"}}" >/dev/null
    start=$SECONDS
    wait_for 10 app_is ka $v
    echo "member-a got $v in $((SECONDS - start)) s with member-b down"
    (( SECONDS - start <= 5 )) || fail "member-a took $((SECONDS - start)) s for $v"
    sleep 2
  done
  # readiness names the member that cannot be reached
  wait_for 20 bash -c "curl -s http://127.0.0.1:$port/readyz | grep -q '^cluster member-b: '"
  run readyz
  expect_match "$out" ' 503$'
  expect_in "$out" "cluster member-b: "
  expect_not_in "$out" "cluster member-a"
  # metrics say which cluster
  out=$(curl -fsS "http://127.0.0.1:$port/metrics")
  expect_match "$out" '^cmsync_writes_total\{verb="update",result="success",cluster="member-a"\} [3-9]$'
  expect_match "$out" '^cmsync_writes_total\{verb="create",result="success",cluster="member-b"\} 1$'
  expect_match "$out" '^cmsync_copies_managed\{cluster="member-a"\} 1$'
  expect_match "$out" '^cmsync_last_sync_timestamp_seconds\{rule="app",cluster="member-b"\} [0-9.e+]+$'
  sleep $((30 - (SECONDS - killed) > 0 ? 30 - (SECONDS - killed) : 0))
  "$CMSYNC_SOURCE_DIR/tests/cluster/start-apiserver" "$member_b"
  start=$SECONDS
  wait_for 40 app_is kb v4
  echo "member-b caught up $((SECONDS - start)) s after its apiserver was back"
  sleep 3  # a second write, had there been one, is done by now
  expect_eq "$(configmap_writes_since "$member_b" "$mark")" "update 200" "member-b's writes since the kill"
  wait_for 40 ready_is 200
  # a hand edit of the managed key in member-a: reported as drift and kept; member-b follows
  ka -n web patch configmap app-config --type merge -p '{"data":{"k":"by hand"}}' >/dev/null
  wait_for 10 grep -q ' app/member-a/web/app-config drift (conflict k)' "$T/watch.out"
  kh -n "$src" patch configmap app-config --type merge -p '{"data":{"k":"v5"}}' >/dev/null
  wait_for 10 app_is kb v5
  sleep 1
  expect_eq "$(member_key ka web app-config k)" "by hand"
  expect_eq "$(member_key kb web other k)" "<absent>" "the forbidden rule wrote nothing"
  stop_watch TERM
  out=$(cat "$T/watch.out")
  expect_in "$out" "app/member-b/web/app-config error: "  # the outage was reported, by cluster
  expect_not_in "$out" "app/member-a/web/app-config error"
}

test_clusters_completion_offers_the_kubeconfig_contexts() {
  # no plane of its own is needed: contexts come from the kubeconfig, with no request
  local clusters=$T/clusters.kubeconfig kc=(kubectl config --kubeconfig "$T/clusters.kubeconfig") c
  for c in hub member-a member-b; do
    "${kc[@]}" set-cluster "$c" --server https://127.0.0.1:1 >/dev/null
    "${kc[@]}" set-context "$c" --cluster "$c" --user nobody >/dev/null
  done
  export PATH="$CMSYNC_SOURCE_DIR/completions:$PATH"
  run kubectl_complete-cmsync sync --kubeconfig "$clusters" --source-context h
  expect_eq "$out" $'hub\n:4'
  run kubectl_complete-cmsync diff --kubeconfig "$clusters" a b --target-context member-a,mem
  expect_eq "$out" $'member-a,member-b\n:4'
  run kubectl_complete-cmsync sync --kubeconfig "$clusters" --target-context=
  expect_eq "$out" $'--target-context=hub\n--target-context=member-a\n--target-context=member-b\n:4'
  run kubectl_complete-cmsync sync --kubeconfig "$clusters" --context member-b
  expect_eq "$out" $'member-b\n:4'
}
