# Rules as Kubernetes objects (issue 28): the CRDs of deploy/crds/, generated from the rules
# file's JSON Schema, on the real apiserver: what one object can get wrong is refused at apply
# with words a user understands; `kubectl get` shows the columns.

crds_applied() {
  k apply -f "$CMSYNC_SOURCE_DIR/deploy/crds/" >/dev/null
  k wait --for condition=established --timeout=30s \
    crd/clustersyncrules.cmsync.io crd/syncrules.cmsync.io crd/syncgrants.cmsync.io >/dev/null
}

# cluster_rule NAME SOURCE_NS TARGET_NS...: applies a ClusterSyncRule copying SOURCE_NS/app.
cluster_rule() {
  local name=$1 src=$2
  shift 2
  k apply -f - >/dev/null <<YAML
apiVersion: cmsync.io/v1alpha1
kind: ClusterSyncRule
metadata: {name: $name}
spec:
  source: {namespace: $src, names: [app]}
  targets: {namespaces: [$(IFS=,; echo "$*")]}
YAML
}

# condition_is FIELD VALUE KIND NAME [NS]: the Ready condition's FIELD (reason, message) of a
# rule object is VALUE.
condition_is() {
  local ns=()
  [[ $# -eq 5 ]] && ns=(-n "$5")
  [[ "$(k get "$3" "$4" "${ns[@]}" -o jsonpath="{.status.conditions[?(@.type==\"Ready\")].$1}")" == "$2" ]]
}

# rule_objects KIND [NAMESPACE]: the rules of schema/example.yaml as objects of KIND, one YAML
# document each (a SyncRule's source is in its own namespace: the source namespace goes).
rule_objects() {
  /usr/bin/python3 - "$CMSYNC_SOURCE_DIR/schema/example.yaml" "$1" "${2:-}" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
kind, namespace = sys.argv[2], sys.argv[3]
for rule in config["rules"]:
    name = rule.pop("name")
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
        del rule["source"]["namespace"]
    print("---")
    print(yaml.safe_dump({"apiVersion": "cmsync.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": rule}))
PY
}

test_crd_files_are_what_the_generator_makes_of_the_rules_schema() {
  run "$CMSYNC_SOURCE_DIR/scripts/gen-crds" --check
  expect_rc 0
}

test_crd_example_rules_are_accepted_as_objects_of_both_kinds() {
  local ns
  crds_applied
  ns=$(new_ns team)
  rule_objects ClusterSyncRule >"$T/cluster-rules.yaml"
  run k apply --dry-run=server -f "$T/cluster-rules.yaml"
  expect_rc 0
  expect_in "$out" "clustersyncrule.cmsync.io/wildcard-tls created (server dry run)"
  rule_objects SyncRule "$ns" >"$T/rules.yaml"
  run k apply --dry-run=server -f "$T/rules.yaml"
  expect_rc 0
  expect_in "$out" "syncrule.cmsync.io/feature-flags created (server dry run)"
  # What the API server takes, `validate` takes too, with the rules' names as the controller's.
  run kubectl-cmsync validate -f "$T/cluster-rules.yaml"
  expect_rc 0
  expect_in "$out" "rule \"wildcard-tls\" valid"
  run kubectl-cmsync validate -f "$T/rules.yaml"
  expect_rc 0
  expect_in "$out" "rule \"$ns/feature-flags\" valid"
  # ...and a rules file run by sync names what runs them instead.
  run kubectl-cmsync sync -f "$T/rules.yaml"
  expect_rc 2
  expect_in "$err" "a SyncRule is applied with kubectl and run by \`watch --rules-from-cluster\`"
  k -n "$ns" apply --dry-run=server -f - >/dev/null <<'YAML'
apiVersion: cmsync.io/v1alpha1
kind: SyncGrant
metadata: {name: from-platform}
spec:
  from: [{namespace: platform}, {namespace: web, kinds: [Secret], names: [db]}]
YAML
}

# refused KIND SPEC MESSAGE [NAME]: an object of KIND with SPEC (flow YAML) is refused by
# `kubectl apply` with MESSAGE in its error.
# refused KIND SPEC MESSAGE [NAME]: the API server refuses the object at apply with MESSAGE,
# and `kubectl cmsync validate` refuses it too (exit 2), before any cluster sees it.
refused() {
  local ns_line=""
  [[ "$1" == ClusterSyncRule ]] || ns_line="  namespace: default"
  cat >"$T/object.yaml" <<YAML
apiVersion: cmsync.io/v1alpha1
kind: $1
metadata:
  name: ${4:-r}
$ns_line
spec: $2
YAML
  run k apply --dry-run=server -f "$T/object.yaml"
  expect_rc 1
  expect_in "$out$err" "$3"
  run kubectl-cmsync validate -f "$T/object.yaml"
  expect_rc 2
}

test_crd_what_one_rule_can_get_wrong_is_refused_at_apply_in_plain_words() {
  crds_applied
  local ok_targets='targets: {namespaces: [a]}'
  refused ClusterSyncRule "{source: {namespace: p, names: [x], all: true}, $ok_targets}" \
    "spec.source: Invalid value: give exactly one of names, selector or all"
  refused ClusterSyncRule "{source: {namespace: p}, $ok_targets}" \
    "give exactly one of names, selector or all"
  refused ClusterSyncRule "{source: {namespace: p, names: [x]}, targets: {namespaces: [a, p]}}" \
    "spec.targets.namespaces: Invalid value: a target namespace is the source namespace"
  refused ClusterSyncRule "{source: {namespace: p, names: [x]}, targets: {exclude: [a]}}" \
    "spec.targets: Invalid value: give namespaces or selector (or both)"
  refused ClusterSyncRule "{source: {namespace: p, names: [x]}, $ok_targets, force: true}" \
    'unknown field "spec.force"'
  refused ClusterSyncRule "{source: {namespace: p, names: [x], kind: Pod}, $ok_targets}" \
    'spec.source.kind: Unsupported value: "Pod"'
  refused ClusterSyncRule "{source: {namespace: p, names: [x]}, $ok_targets, prune: \"yes\"}" \
    "spec.prune: Invalid value"
  refused ClusterSyncRule "{source: {namespace: P_1, names: [x]}, $ok_targets}" \
    "spec.source.namespace: Invalid value: \"P_1\""
  refused ClusterSyncRule "{source: {namespace: p, names: []}, $ok_targets}" \
    "spec.source.names: Invalid value: 0: spec.source.names in body should have at least 1 items"
  refused ClusterSyncRule "{source: {namespace: p, names: [x]}, $ok_targets, keys: [\"a b\"]}" \
    "spec.keys[0]: Invalid value: \"a b\""
  refused ClusterSyncRule "{source: {namespace: p, names: [x]}, $ok_targets}" \
    "a ClusterSyncRule name is a DNS label" app.config
  # a SyncRule's source is in its own namespace: naming another is not a field it has
  refused SyncRule "{source: {namespace: p, names: [x]}, $ok_targets}" \
    'unknown field "spec.source.namespace"'
  refused SyncRule "{source: {selector: \"a=b\", all: true}, $ok_targets}" \
    "give exactly one of names, selector or all"
  refused SyncGrant "{from: []}" "spec.from in body should have at least 1 items"
  refused SyncGrant "{from: [{kinds: [Secret]}]}" 'spec.from[0].namespace: Required value'
  refused SyncGrant "{from: [{namespace: a, kinds: [Pod]}]}" 'Unsupported value: "Pod"'
  refused SyncGrant "{from: [{namespace: A_1}]}" 'spec.from[0].namespace: Invalid value: "A_1"'
  refused SyncGrant "{from: [{namespace: a, names: []}]}" "should have at least 1 items"
  # what both take
  cat >"$T/grant.yaml" <<'YAML'
apiVersion: cmsync.io/v1alpha1
kind: SyncGrant
metadata: {name: from-platform, namespace: default}
spec: {from: [{namespace: platform, kinds: [ConfigMap], names: [app-config]}, {namespace: team-a}]}
YAML
  run k apply --dry-run=server -f "$T/grant.yaml"
  expect_rc 0
  run kubectl-cmsync validate -f "$T/grant.yaml"
  expect_rc 0
  expect_in "$out" "SyncGrant default/from-platform valid"
}

test_crd_kubectl_get_shows_source_counts_and_ready() {
  local name=columns-$RANDOM
  crds_applied
  k apply -f - >/dev/null <<YAML
apiVersion: cmsync.io/v1alpha1
kind: ClusterSyncRule
metadata: {name: $name}
spec:
  source: {namespace: platform, names: [app-config]}
  targets: {selector: "team in (web,api)"}
YAML
  expect_eq "$(k get clustersyncrule "$name" -o jsonpath='{.spec.source.kind}')" ConfigMap
  # status goes through its own subresource, as the controller writes it
  k patch clustersyncrule "$name" --subresource=status --type=merge -p '{"status":{"targets":3,"inStep":2,"conflicts":1,"conditions":[{"type":"Ready","status":"False","reason":"Conflicts","message":"1 copy in conflict","lastTransitionTime":"2026-12-07T06:00:00Z"}]}}' >/dev/null
  run k get clustersyncrule "$name"
  expect_rc 0
  expect_match "$(head -1 <<<"$out")" "^NAME +SOURCE +TARGETS +IN-STEP +CONFLICTS +READY +AGE$"
  expect_match "$(tail -1 <<<"$out")" "^$name +platform +3 +2 +1 +False +[0-9]+s$"
  run k get cmsync
  expect_in "$out" "clustersyncrule.cmsync.io/$name"
  k delete clustersyncrule "$name" >/dev/null
}

test_crd_watch_rules_from_cluster_runs_rules_as_they_are_applied_edited_and_deleted() {
  local src src2 a b c rule=follow-$RANDOM other=younger-$RANDOM
  crds_applied
  src=$(new_ns src); src2=$(new_ns src); a=$(new_ns a); b=$(new_ns b); c=$(new_ns c)
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  k -n "$src2" create configmap app --from-literal=k=other >/dev/null
  start_watch --rules-from-cluster
  cluster_rule "$rule" "$src" "$a" "$b"
  wait_for 20 key_is "$a" app k v1
  wait_for 20 key_is "$b" app k v1
  # edited: the rule runs as it now says
  k patch clustersyncrule "$rule" --type=merge -p "{\"spec\":{\"targets\":{\"namespaces\":[\"$a\",\"$b\",\"$c\"]}}}" >/dev/null
  wait_for 20 key_is "$c" app k v1
  # a younger rule managing the same copies from another source does not run, and says why
  cluster_rule "$other" "$src2" "$a"
  wait_for 20 grep -q "ClusterSyncRule $other does not run: rules \"$rule\" and \"$other\" would both manage ConfigMap $a/app" "$T/watch.err"
  k -n "$src" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  wait_for 20 key_is "$a" app k v2
  # deleted: the rule stops, its copies stay as they are
  k delete clustersyncrule "$rule" "$other" >/dev/null
  # (the second stop: the edit above restarted the rule once)
  wait_for 20 bash -c "[ \$(grep -c '$rule: removed or changed: stopped' '$T/watch.err') -ge 2 ]"
  k -n "$src" patch configmap app --type merge -p '{"data":{"k":"v3"}}' >/dev/null
  sleep 2
  expect_eq "$(k -n "$a" get configmap app -o jsonpath='{.data.k}')" v2
  stop_watch INT
}

test_crd_watch_rules_from_cluster_takes_no_rule_on_the_command_line() {
  run kubectl cmsync watch --rules-from-cluster a b --name x
  expect_rc 2
  expect_in "$err" "--rules-from-cluster cannot be combined with namespaces on the command line"
  run kubectl cmsync watch --rules-from-cluster -f "$CMSYNC_SOURCE_DIR/schema/example.yaml"
  expect_rc 2
  expect_in "$err" "--rules-from-cluster cannot be combined with -f"
}

# rule_status NAME: "READY REASON TARGETS IN-STEP CONFLICTS OBSERVED-GENERATION" of a
# ClusterSyncRule, as kubectl reads it.
rule_status() {
  k get clustersyncrule "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.targets} {.status.inStep} {.status.conflicts} {.status.observedGeneration}'
}

# writes_since MARK: every write of the admin user (the watcher's, and the test's kubectl)
# since audit line MARK, status included, one line each: "VERB RESOURCE[/SUBRESOURCE] NS/NAME".
writes_since() {
  tail -n +"$(($1 + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r 'select(.stage == "ResponseComplete" and (.verb == "create" or .verb == "update" or .verb == "patch" or .verb == "delete") and .user.username == "cmsync-admin") | "\(.verb) \(.objectRef.resource)\(if .objectRef.subresource then "/" + .objectRef.subresource else "" end) \(.objectRef.namespace // "")/\(.objectRef.name // "")"'
}

test_crd_status_says_in_step_then_conflicts_and_a_quiet_cluster_sees_no_write() {
  local src a b rule=status-$RANDOM mark
  crds_applied
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b)
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  start_watch --rules-from-cluster
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  cluster_rule "$rule" "$src" "$a" "$b"
  wait_for 20 key_is "$b" app k v1
  wait_for 20 condition_is reason InStep clustersyncrule "$rule"
  expect_eq "$(rule_status "$rule")" "True InStep 2 2 0 1"
  # what the audit log shows of it (so that "no write" below can be believed)
  expect_in "$(writes_since "$mark")" "patch clustersyncrules/status /$rule"
  expect_in "$(writes_since "$mark")" "create configmaps $b/app"
  run k get clustersyncrule "$rule"
  expect_match "$(tail -1 <<<"$out")" "^$rule +$src +2 +2 +0 +True +[0-9]+s$"
  # quiet: nothing changes, nothing is written, status included
  sleep 1
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  sleep 15
  expect_eq "$(writes_since "$mark" | grep -v " configmaps $src/\| namespaces " || true)" ""
  # a hand edit of a copy: Ready=False Conflicts, the counts say one
  k -n "$a" patch configmap app --type merge -p '{"data":{"k":"hand"}}' >/dev/null
  k -n "$src" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  wait_for 20 condition_is reason Conflicts clustersyncrule "$rule"
  expect_eq "$(rule_status "$rule")" "False Conflicts 2 1 1 1"
  expect_in "$(k get clustersyncrule "$rule" -o jsonpath='{.status.conditions[0].message}')" "1 of 2 copies in conflict"
  # the spec edited: observedGeneration follows; the source missing says so
  k patch clustersyncrule "$rule" --type=merge -p '{"spec":{"source":{"names":["gone"]}}}' >/dev/null
  wait_for 20 condition_is reason SourceMissing clustersyncrule "$rule"
  expect_eq "$(rule_status "$rule")" "False SourceMissing 0 0 0 2"
  stop_watch INT
  k delete clustersyncrule "$rule" >/dev/null
}


# A rule whose first pass cannot write every copy ends that pass all the same: its status says
# Errors at once, not Pending (nor nothing) while it keeps failing.
test_crd_status_of_a_rule_whose_copies_keep_failing_says_errors() {
  local src a b rule=failing-$RANDOM
  crds_applied
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b)
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  # an admission policy refuses every ConfigMap written in b
  k apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: $rule}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]
  validations: [{expression: "false", message: "no ConfigMap may be written here"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: $rule}
spec:
  policyName: $rule
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $b}}
YAML
  wait_for 10 bash -c "! kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$b' create configmap probe >/dev/null 2>&1"
  start_watch --rules-from-cluster
  cluster_rule "$rule" "$src" "$a" "$b"
  wait_for 20 key_is "$a" app k v1
  wait_for 10 condition_is reason Errors clustersyncrule "$rule"
  expect_eq "$(rule_status "$rule")" "False Errors 2 1 0 1"
  stop_watch INT
  k delete clustersyncrule "$rule" >/dev/null
  k delete validatingadmissionpolicybinding,validatingadmissionpolicy "$rule" >/dev/null
}

test_crd_syncrule_writes_only_where_a_grant_consents() {
  local team a b mark
  crds_applied
  team=$(new_ns team); a=$(new_ns a); b=$(new_ns b)
  k -n "$team" create configmap app --from-literal=k=v1 >/dev/null
  start_watch --rules-from-cluster
  k -n "$team" apply -f - >/dev/null <<YAML
apiVersion: cmsync.io/v1alpha1
kind: SyncRule
metadata: {name: share}
spec:
  source: {names: [app]}
  targets: {namespaces: [$a, $b]}
YAML
  # no grant: nothing written, and the rule says so
  wait_for 20 condition_is reason NotGranted syncrule share "$team"
  expect_in "$(k -n "$team" get syncrule share -o jsonpath='{.status.conditions[0].message}')" "no SyncGrant lets this rule write into $a, $b"
  run k -n "$a" get configmap app
  expect_rc 1
  # a grant in a: the copy comes within 2 s (the rule restarts limited to a)
  k -n "$a" apply -f - >/dev/null <<YAML
apiVersion: cmsync.io/v1alpha1
kind: SyncGrant
metadata: {name: from-team}
spec:
  from: [{namespace: $team, kinds: [ConfigMap]}]
YAML
  local granted=$SECONDS
  wait_for 10 key_is "$a" app k v1
  (( SECONDS - granted <= 3 )) || fail "the copy came $((SECONDS - granted)) s after the grant"
  run k -n "$b" get configmap app
  expect_rc 1
  wait_for 10 condition_is message "no SyncGrant lets this rule write into $b" syncrule share "$team"
  # a grant for other names or kinds consents to nothing here
  k -n "$b" apply -f - >/dev/null <<YAML
apiVersion: cmsync.io/v1alpha1
kind: SyncGrant
metadata: {name: from-team}
spec:
  from: [{namespace: $team, names: [other]}, {namespace: $team, kinds: [Secret]}]
YAML
  sleep 2
  run k -n "$b" get configmap app
  expect_rc 1
  # the grant removed: writes into a stop at once; the copy stays
  k -n "$a" delete syncgrant from-team >/dev/null
  wait_for 10 condition_is message "no SyncGrant lets this rule write into $a, $b" syncrule share "$team"
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  k -n "$team" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  sleep 2
  expect_eq "$(k -n "$a" get configmap app -o jsonpath='{.data.k}')" v1
  expect_eq "$(tail -n +"$((mark + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" | jq -r --arg a "$a" 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps" and .objectRef.namespace == $a) | .verb')" ""
  stop_watch INT
}

# replica_kubeconfig NS SA: a kubeconfig for ServiceAccount NS/SA (bound to cluster-admin), so
# the audit log tells the replicas' requests apart by user. Prints its path.
replica_kubeconfig() {
  local ns=$1 sa=$2 token
  k -n "$ns" create serviceaccount "$sa" >/dev/null
  k create clusterrolebinding "$ns-$sa" --clusterrole=cluster-admin --serviceaccount="$ns:$sa" >/dev/null
  token=$(k -n "$ns" create token "$sa" --duration=1h)
  k config view --raw --minify -o json |
    jq --arg t "$token" --arg u "$sa" '.users = [{name: $u, user: {token: $t}}] | .contexts[0].context.user = $u' \
      >"$T/$sa.kubeconfig"
  echo "$T/$sa.kubeconfig"
}

# start_replica NAME KUBECONFIG LEASE_NS: `watch --rules-from-cluster --leader-elect` as pod
# NAME; its log is $T/NAME.log, its pid $T/NAME.pid.
start_replica() {
  POD_NAME=$1 kubectl-cmsync watch --rules-from-cluster --leader-elect --leader-elect-namespace "$3" \
    --leader-elect-name rules --kubeconfig "$2" >"$T/$1.log" 2>&1 &
  echo $! >"$T/$1.pid"
  echo $! >>"$T/bg.pids"
}

holder_is() {  # lease_ns pod
  [[ "$(k -n "$1" get lease rules -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)" == "$2"_* ]]
}

# status_is NAME "READY REASON TARGETS IN-STEP CONFLICTS OBSERVED-GENERATION", and the
# observed generation is the object's generation.
status_is() {
  [[ "$(rule_status "$1")" == "$2" ]] &&
    [[ "$(k get clustersyncrule "$1" -o jsonpath='{.metadata.generation}')" == "${2##* }" ]]
}

# lease_and_status_writes MARK LEASE_NS RULE...: since audit line MARK, in order of receipt, one
# line per successful Lease write and status write of RULE...: "TIME USER lease|status NAME".
lease_and_status_writes() {
  local mark=$1 ns=$2
  shift 2
  tail -n +"$((mark + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r --arg ns "$ns" --argjson rules "$(printf '%s\n' "$@" | jq -R . | jq -s .)" '
      select(.stage == "ResponseComplete" and .responseStatus.code < 300
        and (.verb == "create" or .verb == "update" or .verb == "patch"))
      | (if .objectRef.resource == "leases" and .objectRef.namespace == $ns then "lease"
         elif .objectRef.resource == "clustersyncrules" and .objectRef.subresource == "status"
           and (.objectRef.name as $n | $rules | index($n)) then "status"
         else empty end) as $what
      | "\(.requestReceivedTimestamp) \(.user.username | sub(".*:"; "")) \($what) \(.objectRef.name)"' |
    sort
}

# one_writer_at_a_time LINES: every status write is by the user of the last Lease write
# before it (a deposed leader writes nothing once the other has taken the Lease).
one_writer_at_a_time() {
  awk '$3 == "lease" { holder = $2; next }
       $2 != holder { print "status of " $4 " written by " $2 " at " $1 " while the Lease was " holder "\x27s"; bad = 1 }
       END { exit bad }' <<<"$1"
}

# Leader failover (issue 28): two replicas of `watch --rules-from-cluster --leader-elect`, rules
# in step; the leader is killed (SIGKILL) and, while the standby takes over, a source changes, a
# copy is edited by hand and a rule's spec changes. The new leader must bring each status to the
# counts and reason the copies now call for, observedGeneration current. Then the new leader is
# frozen (SIGSTOP) past its Lease while a restarted replica takes over and a second copy is
# edited by hand: once woken, the deposed leader writes no status (audit log) and exits.
test_crd_leader_failover_keeps_statuses_right() {
  local lease_ns s1 s2 a1 b1 a2 b2 r1=fail-one-$RANDOM r2=fail-two-$RANDOM kc1 kc2 mark writes
  crds_applied
  lease_ns=$(new_ns lease); s1=$(new_ns src); s2=$(new_ns src)
  a1=$(new_ns a); b1=$(new_ns b); a2=$(new_ns a); b2=$(new_ns b)
  kc1=$(replica_kubeconfig "$lease_ns" replica-1); kc2=$(replica_kubeconfig "$lease_ns" replica-2)
  k -n "$s1" create configmap app --from-literal=k=v1 >/dev/null
  k -n "$s2" create configmap app --from-literal=k=w1 >/dev/null
  cluster_rule "$r1" "$s1" "$a1" "$b1"
  cluster_rule "$r2" "$s2" "$a2" "$b2"
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  start_replica replica-1 "$kc1" "$lease_ns"
  wait_for 20 holder_is "$lease_ns" replica-1
  start_replica replica-2 "$kc2" "$lease_ns"
  wait_for 20 grep -q standby "$T/replica-2.log"
  wait_for 20 status_is "$r1" "True InStep 2 2 0 1"
  wait_for 20 status_is "$r2" "True InStep 2 2 0 1"

  # The leader killed; meanwhile a source changes, a copy is edited by hand, a spec changes.
  local killed_at=$SECONDS took
  kill -KILL "$(cat "$T/replica-1.pid")"
  k -n "$a1" patch configmap app --type merge -p '{"data":{"k":"by hand"}}' >/dev/null
  k -n "$s1" patch configmap app --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  k -n "$s2" patch configmap app --type merge -p '{"data":{"k":"w2"}}' >/dev/null
  k patch clustersyncrule "$r2" --type=merge -p '{"spec":{"keys":["k"]}}' >/dev/null
  # a Lease of 15 s after the last renewal, then the standby's next try (2 s)
  wait_for 30 status_is "$r1" "False Conflicts 2 1 1 1"
  wait_for 10 status_is "$r2" "True InStep 2 2 0 2"
  took=$((SECONDS - killed_at))
  echo "statuses right ${took} s after the leader was killed"
  expect_eq "$(cm_key "$b1" app k)" v2
  expect_eq "$(cm_key "$a1" app k)" "by hand"
  expect_eq "$(cm_key "$b2" app k)" w2
  holder_is "$lease_ns" replica-2 || fail "replica-2 does not hold the Lease"
  writes=$(lease_and_status_writes "$mark" "$lease_ns" "$r1" "$r2")
  # the statuses after the kill were written by the new leader, none by the dead one
  expect_match "$writes" "replica-2 status $r1"
  expect_match "$writes" "replica-2 status $r2"
  one_writer_at_a_time "$writes" || fail "$(one_writer_at_a_time "$writes")"

  # The new leader frozen past its Lease (15 s) while a restarted replica takes over and a
  # second copy is edited by hand; woken, it must not write a status and must exit.
  start_replica replica-1 "$kc1" "$lease_ns"
  kill -STOP "$(cat "$T/replica-2.pid")"
  wait_for 30 holder_is "$lease_ns" replica-1
  k -n "$b2" patch configmap app --type merge -p '{"data":{"k":"by hand too"}}' >/dev/null
  wait_for 20 status_is "$r2" "False Conflicts 2 1 1 2"
  kill -CONT "$(cat "$T/replica-2.pid")"
  local code=0
  wait "$(cat "$T/replica-2.pid")" || code=$?
  (( code != 0 )) || fail "the deposed leader exited 0"
  expect_in "$(cat "$T/replica-2.log")" "lost the leader Lease"
  status_is "$r1" "False Conflicts 2 1 1 1" || fail "$r1 says $(rule_status "$r1")"
  writes=$(lease_and_status_writes "$mark" "$lease_ns" "$r1" "$r2")
  expect_match "$writes" "replica-1 status $r2"
  one_writer_at_a_time "$writes" || fail "$(one_writer_at_a_time "$writes")"
  kill -INT "$(cat "$T/replica-1.pid")"
  wait "$(cat "$T/replica-1.pid")" || fail "replica-1 exited $?"
  k delete clustersyncrule "$r1" "$r2" >/dev/null
}
