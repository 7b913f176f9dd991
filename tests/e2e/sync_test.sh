# `kubectl cmsync sync` against the real apiserver (issue 4); outcomes checked with kubectl and
# with the apiserver's audit log.

# ConfigMap writes (create/update/delete) the audit log recorded in namespace $1.
audit_writes() {
  jq -r --arg ns "$1" 'select(.stage == "ResponseComplete" and .objectRef.namespace == $ns
    and .objectRef.resource == "configmaps" and (.verb == "create" or .verb == "update"
    or .verb == "delete" or .verb == "patch")) | .verb' "$CMSYNC_CLUSTER_DIR/audit.log" | wc -l
}

test_sync_creates_then_second_run_writes_nothing() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=$'a: 1\n' --from-literal=x=1 >/dev/null
  run kubectl cmsync sync "$a" "$b" "$c" --name app-config
  expect_rc 0
  expect_in "$out" "$b/app-config: created (add config.yaml, add x)"
  expect_in "$out" "2 targets: 2 created"
  for ns in "$b" "$c"; do
    expect_eq "$(cm_key "$ns" app-config config.yaml)" $'a: 1'
    expect_eq "$(k -n "$ns" get cm app-config -o jsonpath='{.metadata.labels.cmsync\.io/managed}')" true
    expect_eq "$(k -n "$ns" get cm app-config -o jsonpath='{.metadata.annotations.cmsync\.io/sync-from}')" "$a/app-config"
    expect_eq "$(k -n "$ns" get cm app-config -o jsonpath='{.metadata.annotations.cmsync\.io/last-synced}' | jq -r '.["config.yaml"]')" "$(sha256 $'a: 1\n')"
    expect_eq "$(k -n "$ns" get cm app-config -o jsonpath='{.metadata.managedFields[0].manager}')" kubectl-cmsync
  done
  local before_b before_c
  before_b=$(audit_writes "$b"); before_c=$(audit_writes "$c")
  expect_eq "$before_b" 1 "audit: one create in $b"
  run kubectl cmsync sync "$a" "$b" "$c" --name app-config -v 6
  expect_rc 0
  expect_in "$out" "2 targets: 2 unchanged"
  expect_eq "$(grep -cE ' (POST|PUT|DELETE|PATCH) https://' <<<"$err")" 0 "write requests in -v 6"
  expect_eq "$(audit_writes "$b")" "$before_b" "audit writes in $b"
  expect_eq "$(audit_writes "$c")" "$before_c" "audit writes in $c"
}

test_sync_keys_leave_other_keys_alone_and_follow_source() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 --from-literal=feature=on \
    --from-literal=source-only=s >/dev/null
  k -n "$b" create configmap app-config --from-literal=local=mine --from-literal=feature=theirs >/dev/null
  run kubectl cmsync sync "$a" "$b" --name app-config --keys config.yaml,feature --force
  expect_rc 0
  expect_eq "$(cm_key "$b" app-config local)" mine
  expect_eq "$(cm_key "$b" app-config source-only)" "<absent>"
  expect_eq "$(cm_key "$b" app-config config.yaml)" v1
  # a change of the source's config.yaml updates that key only
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2","source-only":"changed"}}' >/dev/null
  run kubectl cmsync sync "$a" "$b" --name app-config --keys config.yaml,feature -o json
  expect_rc 0
  expect_eq "$(jqv "$out" '.targets[0].result')" updated
  expect_eq "$(jqv "$out" '[.targets[0].keys[] | select(.change == "modify") | .key] | join(",")')" config.yaml
  expect_eq "$(cm_key "$b" app-config config.yaml)" v2
  expect_eq "$(cm_key "$b" app-config local)" mine
  expect_eq "$(cm_key "$b" app-config source-only)" "<absent>"
  # the source drops a managed key: removed where the target still holds what was written
  k -n "$a" patch configmap app-config --type json -p '[{"op":"remove","path":"/data/feature"}]' >/dev/null
  run kubectl cmsync sync "$a" "$b" --name app-config --keys config.yaml,feature
  expect_rc 0
  expect_in "$out" "remove feature"
  expect_eq "$(cm_key "$b" app-config feature)" "<absent>"
  expect_eq "$(cm_key "$b" app-config local)" mine
}

test_sync_hand_edit_is_conflict_unless_forced() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  run kubectl cmsync sync "$a" "$b" "$c" --name app-config
  expect_rc 0
  k -n "$b" patch configmap app-config --type merge -p '{"data":{"config.yaml":"hand edit"}}' >/dev/null
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  run kubectl cmsync sync "$a" "$b" "$c" --name app-config
  expect_rc 1
  expect_in "$out" "$b/app-config: conflict"
  expect_in "$out" "$c/app-config: updated"
  expect_eq "$(cm_key "$b" app-config config.yaml)" "hand edit"
  expect_eq "$(cm_key "$c" app-config config.yaml)" v2
  run kubectl cmsync sync "$a" "$b" "$c" --name app-config --force
  expect_rc 0
  expect_eq "$(cm_key "$b" app-config config.yaml)" v2
}

test_sync_conflicting_writer_gets_409_retry_and_both_changes_survive() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  k -n "$b" create configmap app-config --from-literal=local=0 >/dev/null
  # Before cmsync's first write, after its read, another writer changes an unmanaged key of
  # the target (the fault build's hook: lib.sh with_fault_hooks).
  cat >"$T/race" <<RACE
#!/bin/sh
[ -e "$T/raced" ] && exit 0
touch "$T/raced"
kubectl --kubeconfig "$CMSYNC_ADMIN_KUBECONFIG" -n "$b" patch configmap app-config --type merge -p '{"data":{"local":"changed-by-other"}}' >/dev/null
RACE
  chmod +x "$T/race"
  CMSYNC_TEST_BEFORE_WRITE="$T/race" with_fault_hooks run kubectl cmsync sync "$a" "$b" --name app-config -o json -v 6
  expect_rc 0
  expect_eq "$(grep -cE "PUT https://[^ ]+/namespaces/$b/configmaps/app-config\?fieldManager=kubectl-cmsync 409" <<<"$err")" 1 "one 409"
  expect_eq "$(grep -cE "PUT https://[^ ]+/namespaces/$b/configmaps/app-config\?fieldManager=kubectl-cmsync 200" <<<"$err")" 1 "then one successful PUT"
  expect_eq "$(jqv "$out" '.targets[0].retries')" 1
  expect_eq "$(cm_key "$b" app-config local)" changed-by-other
  expect_eq "$(cm_key "$b" app-config config.yaml)" v1
}

test_sync_immutable_and_terminating_targets_fail_alone() {
  local a imm term ok
  a=$(new_ns src); imm=$(new_ns dst); term=$(new_ns dst); ok=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: $imm, labels: {team: web}}
immutable: true
data: {own: keep}
YAML
  k -n "$term" create configmap other --from-literal=a=b >/dev/null
  k delete namespace "$term" --wait=false >/dev/null
  expect_eq "$(k get namespace "$term" -o jsonpath='{.status.phase}')" Terminating
  run kubectl cmsync sync "$a" "$imm" "$term" "$ok" --name app-config
  expect_rc 1
  expect_in "$out" "$imm/app-config: error: target is immutable (use --force to delete and recreate it)"
  expect_match "$out" "$term/app-config: error: create configmaps \"app-config\" in namespace \"$term\": forbidden \(check RBAC\): .*being terminated"
  expect_in "$out" "$ok/app-config: created"
  expect_eq "$(cm_key "$ok" app-config config.yaml)" v1
  expect_eq "$(cm_key "$imm" app-config config.yaml)" "<absent>"
  # --force re-creates the immutable copy, keeping its own key, labels and immutability
  run kubectl cmsync sync "$a" "$imm" --name app-config --force
  expect_rc 0
  expect_in "$out" "$imm/app-config: recreated"
  expect_eq "$(cm_key "$imm" app-config config.yaml)" v1
  expect_eq "$(cm_key "$imm" app-config own)" keep
  expect_eq "$(k -n "$imm" get cm app-config -o jsonpath='{.metadata.labels.team}')" web
  expect_eq "$(k -n "$imm" get cm app-config -o jsonpath='{.immutable}')" true
}

test_sync_restricted_user_without_update_fails_that_target_only() {
  local a b c
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  k -n "$c" create configmap app-config --from-literal=own=1 >/dev/null
  k -n "$a" create role read --verb=get,list,watch --resource=configmaps >/dev/null
  k -n "$a" create rolebinding read --role=read --user=cmsync-restricted >/dev/null
  k -n "$b" create role write --verb=get,list,watch,create,update --resource=configmaps >/dev/null
  k -n "$b" create rolebinding write --role=write --user=cmsync-restricted >/dev/null
  k -n "$c" create role read --verb=get,list,watch,create --resource=configmaps >/dev/null
  k -n "$c" create rolebinding read --role=read --user=cmsync-restricted >/dev/null
  run kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" sync "$a" "$b" "$c" --name app-config
  expect_rc 1
  expect_in "$out" "$b/app-config: created"
  expect_in "$out" "$c/app-config: error: update configmaps \"app-config\" in namespace \"$c\": forbidden (check RBAC)"
  expect_eq "$(cm_key "$c" app-config config.yaml)" "<absent>"
  expect_eq "$(cm_key "$b" app-config config.yaml)" v1
}

test_sync_dry_run_server_and_client_store_nothing() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  run kubectl cmsync sync "$a" "$b" --name app-config --dry-run=server -v 6
  expect_rc 0
  expect_in "$out" "$b/app-config: created"
  expect_in "$out" "(dry run: server)"
  expect_match "$err" "POST https://[^ ]+/namespaces/$b/configmaps\?fieldManager=kubectl-cmsync&dryRun=All 201"
  run k -n "$b" get configmap app-config
  expect_rc 1
  run kubectl cmsync sync "$a" "$b" --name app-config --dry-run=client -v 6
  expect_rc 0
  expect_eq "$(grep -cE ' (POST|PUT) https://' <<<"$err")" 0 "writes with --dry-run=client"
  run k -n "$b" get configmap app-config
  expect_rc 1
}

test_sync_unreachable_server_and_missing_source_exit_2() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  run kubectl cmsync sync "$a" "$b" --name nope
  expect_rc 2
  expect_eq "$err" "error: source ConfigMap \"nope\" not found in namespace \"$a\""
  run kubectl cmsync --server https://127.0.0.1:1 sync "$a" "$b" --name nope
  expect_rc 2
  expect_in "$err" "error: cannot reach https://127.0.0.1:1/api/v1/namespaces/$a/configmaps/nope"
}

test_sync_fan_out_to_100_namespaces() {
  local a targets=() start elapsed
  a=$(new_ns src)
  k -n "$a" create configmap app-config --from-literal=config.yaml="$(head -c 3000 /dev/zero | tr '\0' 'x')" \
    --from-literal=b=2 --from-literal=c=3 >/dev/null
  local suffix=$RANDOM$RANDOM
  for i in $(seq 1 100); do
    targets+=("fan-$suffix-$i")
    printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: fan-%s-%d}\n' "$suffix" "$i"
  done >"$T/ns.yaml"
  k apply -f "$T/ns.yaml" >/dev/null
  start=$(date +%s%N)
  run kubectl cmsync sync "$a" "${targets[@]}" --name app-config -o json -v 6
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  expect_rc 0
  expect_eq "$(jqv "$out" '.summary.created')" 100
  # the copies were read with one cluster-wide list, not a GET per namespace
  expect_eq "$(grep -cE 'GET https://[^ ]+/api/v1/configmaps\?limit=500&fieldSelector=metadata.name%3Dapp-config 200' <<<"$err")" 1 "cluster-wide reads"
  expect_eq "$(grep -cE "GET https://[^ ]+/namespaces/fan-$suffix-[0-9]+/configmaps/app-config" <<<"$err")" 0 "per-namespace GETs"
  local found
  found=$(k get configmaps -A -l cmsync.io/managed=true -o json |
    jq --arg src "$a/app-config" '[.items[] | select(.metadata.annotations["cmsync.io/sync-from"] == $src and (.data.b == "2"))] | length')
  expect_eq "$found" 100 "copies verified by kubectl"
  echo "fan-out to 100 namespaces: ${elapsed} ms" | tee -a "${CMSYNC_E2E_FIGURES:-/dev/null}"
  start=$(date +%s%N)
  run kubectl cmsync sync "$a" "${targets[@]}" --name app-config -o json
  echo "no-op rerun over 100 namespaces: $(( ($(date +%s%N) - start) / 1000000 )) ms" | tee -a "${CMSYNC_E2E_FIGURES:-/dev/null}"
  expect_eq "$(jqv "$out" '.summary.unchanged')" 100
}

test_sync_where_every_managed_key_conflicts_claims_nothing() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=new --from-literal=j=1 >/dev/null
  k -n "$b" create configmap app-config --from-literal=k=theirs --from-literal=j=2 >/dev/null
  k -n "$b" create configmap frozen --from-literal=k=theirs >/dev/null
  k -n "$a" create configmap frozen --from-literal=k=new >/dev/null
  k -n "$b" patch configmap frozen --type merge -p '{"immutable":true}' >/dev/null
  local before
  before=$(k -n "$b" get configmaps app-config frozen -o json | jq -c '[.items[] | .metadata | {resourceVersion, labels, annotations}]')
  run kubectl cmsync sync "$a" "$b" --name app-config,frozen
  expect_rc 1
  expect_in "$out" "$b/app-config: conflict"
  expect_in "$out" "$b/frozen: conflict"
  expect_eq "$(k -n "$b" get configmaps app-config frozen -o json | jq -c '[.items[] | .metadata | {resourceVersion, labels, annotations}]')" "$before" "targets untouched"
  # so its real owner later syncs into it without a cross-source conflict
  local other
  other=$(new_ns src)
  k -n "$other" create configmap app-config --from-literal=k=theirs --from-literal=j=2 >/dev/null
  run kubectl cmsync sync "$other" "$b" --name app-config
  expect_rc 0
  expect_eq "$(k -n "$b" get configmap app-config -o jsonpath='{.metadata.annotations.cmsync\.io/sync-from}')" "$other/app-config"
}

# A server that accepts connections and never answers.
start_silent_server() {  # port
  socat "TCP-LISTEN:$1,bind=127.0.0.1,fork,reuseaddr" SYSTEM:'sleep 120' &
  echo $! >>"$T/bg.pids"
  wait_for 5 bash -c "echo >/dev/tcp/127.0.0.1/$1"
}

test_request_timeout_is_one_budget_across_retries() {
  local port start ms
  port=$(free_port)
  start_silent_server "$port"
  start=$(date +%s%N)
  run kubectl cmsync --server "https://127.0.0.1:$port" --insecure-skip-tls-verify --request-timeout 2s sync a b --name x
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  expect_rc 2
  expect_in "$err" "error: timed out talking to https://127.0.0.1:$port/api/v1/namespaces/a/configmaps/x"
  # the budget and process start-up; each retry used to take the whole 2 s again (14 s)
  (( ms < 4000 )) || fail "sync --request-timeout 2s took $ms ms"
  start=$(date +%s%N)
  run kubectl-cmsync __complete --server "https://127.0.0.1:$port" --insecure-skip-tls-verify sync ""
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  expect_rc 0
  expect_eq "$out" ":4"
  (( ms < 5000 )) || fail "completion took $ms ms (its documented limit is 3 s)"
}

# Issue 18: API Priority and Fairness turns most of a burst away (429 + Retry-After) when the
# user's priority level has one share; the run slows down (one window of requests in flight for
# the whole command, halved on 429) and finishes with every copy made.
test_sync_throttled_by_apf_slows_down_and_finishes() {
  local a suffix=$RANDOM$RANDOM targets=()
  a=$(new_ns src)
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  for i in $(seq 1 100); do
    targets+=("apf-$suffix-$i")
    printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: apf-%s-%d}\n' "$suffix" "$i"
  done >"$T/ns.yaml"
  k apply -f "$T/ns.yaml" >/dev/null
  k create clusterrolebinding "apf-$suffix" --clusterrole=cluster-admin --user=cmsync-token-user >/dev/null
  cat <<APF | k apply -f - >/dev/null
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: apf-$suffix}
spec: {type: Limited, limited: {nominalConcurrencyShares: 1, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: {type: Reject}}}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: apf-$suffix}
spec:
  priorityLevelConfiguration: {name: apf-$suffix}
  matchingPrecedence: 100
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects: [{kind: User, user: {name: cmsync-token-user}}]
    resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true}]
    nonResourceRules: [{verbs: ["*"], nonResourceURLs: ["*"]}]
APF
  sleep 2  # the apiserver's flow-control configuration catches up
  run kubectl cmsync --kubeconfig "$CMSYNC_TOKEN_KUBECONFIG" sync "$a" "${targets[@]}" --name app-config \
    --concurrency 64 -o json -v 6
  k delete flowschema "apf-$suffix" >/dev/null
  k delete prioritylevelconfiguration "apf-$suffix" >/dev/null
  k delete clusterrolebinding "apf-$suffix" >/dev/null
  expect_rc 0
  expect_eq "$(jqv "$out" '.summary.created')" 100
  local rejected
  rejected=$(grep -cE ' 429 in [0-9]+ milliseconds' <<<"$err" || true)
  (( rejected >= 1 )) || fail "the server never throttled the run (no 429): the test proves nothing"
  expect_eq "$(k get configmaps -A --field-selector metadata.name=app-config --no-headers \
    -o custom-columns=NS:.metadata.namespace | grep -c "^apf-$suffix-")" 100 "copies (kubectl)"
  echo "APF-throttled sync of 100 targets: $rejected answers 429" | tee -a "${CMSYNC_E2E_FIGURES:-/dev/null}"
}

# A selection that matches nothing is said on stderr, not only by an empty report (a merge of
# the logger had left the warning out).
test_sync_and_diff_warn_when_the_selection_matches_nothing() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  run kubectl cmsync sync "$a" "$b" -l app=none
  expect_rc 0
  expect_in "$err" "no ConfigMap in namespace \"$a\" matches the selection"
  run kubectl cmsync diff "$a" "$b" -l app=none
  expect_in "$err" "no ConfigMap in namespace \"$a\" matches the selection"
}
