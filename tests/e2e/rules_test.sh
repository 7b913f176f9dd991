# Rules files, `-f` (issue 14): checked with kubectl and the audit log.

# writes_since MARK NS...: successful ConfigMap writes in the audit log after line MARK.
writes_since() {
  local mark=$1
  shift
  tail -n +"$((mark + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r --args 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps" and (.verb == "create" or .verb == "update" or .verb == "delete") and .responseStatus.code < 300 and (.objectRef.namespace as $n | $ARGS.positional | index($n))) | .verb' "$@" | wc -l
}

# What kubectl sees of a copy: data, binaryData and cmsync's label and annotations.
copy_state() {  # ns name
  k -n "$1" get configmap "$2" -o json 2>/dev/null |
    jq -c '{data, binaryData, managed: .metadata.labels["cmsync.io/managed"], from: .metadata.annotations["cmsync.io/sync-from"], hashes: .metadata.annotations["cmsync.io/last-synced"]}' || echo absent
}

test_rules_file_matches_positional_commands_and_second_run_writes_nothing() {
  local src src2 suffix=$RANDOM$RANDOM
  src=$(new_ns src); src2=$(new_ns src)
  k -n "$src" create configmap app-config --from-literal=config.yaml=v1 --from-literal=other=1 >/dev/null
  k -n "$src" create configmap flags --from-literal=f=on >/dev/null
  k -n "$src" label configmap flags sync=true >/dev/null
  k -n "$src" create configmap ca-bundle --from-literal=ca.crt=pem >/dev/null
  k -n "$src" create configmap tmp --from-literal=t=1 >/dev/null
  k -n "$src2" create configmap a --from-literal=x=1 >/dev/null
  k -n "$src2" create configmap b --from-literal=y=2 >/dev/null
  declare -A web api db ops
  for w in 1 2; do
    web[$w]=$(new_ns web "team-$suffix=w$w"); api[$w]=$(new_ns api "team-$suffix=w$w")
    db[$w]=$(new_ns db "team-$suffix=w$w"); ops[$w]=$(new_ns ops)
  done
  # a copy with a key of its own in each world
  k -n "${api[1]}" create configmap app-config --from-literal=mine=1 >/dev/null
  k -n "${api[2]}" create configmap app-config --from-literal=mine=1 >/dev/null
  cat >"$T/cmsync.yaml" <<RULES
# yaml-language-server: \$schema=../../schema/syncconfig.json
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
rules:
  - name: app
    source: {namespace: $src, names: [app-config]}
    targets: {namespaces: [${web[1]}, ${api[1]}]}
    keys: [config.yaml]
  - name: flags
    source: {namespace: $src, selector: sync=true}
    targets: {namespaces: [${web[1]}]}
  - name: ca
    source: {namespace: $src, names: [ca-bundle]}
    targets:
      selector: team-$suffix=w1
      exclude: [${db[1]}]
  - name: everything
    source: {namespace: $src2, all: true}
    targets: {namespaces: [${ops[1]}]}
  - name: scratch
    source: {namespace: $src, names: [tmp]}
    targets: {namespaces: [${api[1]}]}
    prune: true
RULES
  run kubectl cmsync validate -f "$T/cmsync.yaml"
  expect_rc 0
  expect_in "$out" "5 rules valid"
  run kubectl cmsync diff -f "$T/cmsync.yaml"
  expect_rc 1
  expect_in "$out" "app/${web[1]}/app-config: create (add config.yaml)"
  run kubectl cmsync sync -f "$T/cmsync.yaml" -o json
  expect_rc 0
  expect_eq "$(jqv "$out" '[.rules[].name] | join(",")')" "app,flags,ca,everything,scratch"
  expect_eq "$(jqv "$out" '[.rules[] | .summary | to_entries[] | "\(.key)=\(.value)"] | join(",")')" "created=1,updated=1,created=1,created=2,created=2,created=1"
  # the same five as positional commands, into the second world
  for c in "$src ${web[2]} ${api[2]} --name app-config --keys config.yaml" "$src ${web[2]} -l sync=true" \
    "$src ${web[2]} ${api[2]} --name ca-bundle" "$src2 ${ops[2]} --all" "$src ${api[2]} --name tmp"; do
    # shellcheck disable=SC2086
    run kubectl cmsync sync $c
    expect_rc 0
  done
  for pair in "web app-config" "api app-config" "web flags" "web ca-bundle" "api ca-bundle" "db ca-bundle" "ops a" "ops b" "api tmp"; do
    read -r role name <<<"$pair"
    local -n world=$role
    expect_eq "$(copy_state "${world[1]}" "$name")" "$(copy_state "${world[2]}" "$name")" "$role/$name in both worlds"
  done
  expect_eq "$(copy_state "${db[1]}" ca-bundle)" absent "excluded namespace"
  expect_eq "$(cm_key "${api[1]}" app-config mine)" 1
  # a second run writes nothing, and diff says so
  local mark
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  run kubectl cmsync sync -f "$T/cmsync.yaml"
  expect_rc 0
  expect_in "$out" "8 targets: 8 unchanged"
  run kubectl cmsync diff -f "$T/cmsync.yaml"
  expect_rc 0
  sleep 1
  expect_eq "$(writes_since "$mark" "${web[1]}" "${api[1]}" "${db[1]}" "${ops[1]}")" 0 "writes on the second run"
  # a hand edit: diff exits 1 and names the rule
  k -n "${web[1]}" patch configmap flags --type merge -p '{"data":{"f":"off"}}' >/dev/null
  run kubectl cmsync diff -f "$T/cmsync.yaml"
  expect_rc 1
  expect_in "$out" "flags/${web[1]}/flags: conflict"
}

test_rules_file_a_forbidden_rule_fails_alone() {
  local a b c rbac=$CMSYNC_SOURCE_DIR/deploy/rbac
  a=$(new_ns src); b=$(new_ns src); c=$(new_ns dst)
  k -n "$a" apply -f "$rbac/source-reader.yaml" >/dev/null  # b: no rights at all
  k -n "$c" apply -f "$rbac/target-writer.yaml" >/dev/null
  k -n "$a" create configmap ok --from-literal=k=v >/dev/null
  k -n "$b" create configmap secret-ish --from-literal=k=v >/dev/null
  cat >"$T/rules.yaml" <<RULES
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
rules:
  - name: forbidden
    source: {namespace: $b, all: true}
    targets: {namespaces: [$c]}
  - name: allowed
    source: {namespace: $a, names: [ok]}
    targets: {namespaces: [$c]}
RULES
  run kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" sync -f "$T/rules.yaml"
  expect_rc 1
  expect_in "$out" "forbidden: error: list configmaps in namespace \"$b\": forbidden (check RBAC)"
  expect_in "$out" "allowed/$c/ok: created"
  expect_eq "$(cm_key "$c" ok k)" v
  run kubectl cmsync --kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG" diff -f "$T/rules.yaml" -o json
  expect_rc 2
  expect_match "$(jqv "$out" '.rules[0].error')" "^list configmaps in namespace \"$b\": forbidden \\(check RBAC\\)"
  expect_eq "$(jqv "$out" '.rules[1].targets[0].action')" unchanged
}

test_rules_file_errors_exit_2_before_any_request() {
  cat >"$T/bad.yaml" <<'RULES'
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
rules:
  - name: one
    source: {namespace: a, names: [x]}
    targets: {namespaces: [b, a]}
  - name: one
    source: {namespace: c, names: [x]}
    targets: {namespaces: [b]}
    keys: [bad/key]
RULES
  for c in "validate -f $T/bad.yaml" "diff -f $T/bad.yaml" "sync -f $T/bad.yaml" "watch -f $T/bad.yaml"; do
    # shellcheck disable=SC2086
    run kubectl cmsync $c -v 6
    expect_rc 2
    expect_eq "$(request_lines "$err" | wc -l)" 0 "requests sent for: $c"
    expect_in "$err" "error: $T/bad.yaml:6:31: rules[0].targets.namespaces[1]: target namespace \"a\" is the source namespace"
    expect_in "$err" "error: $T/bad.yaml:10:12: rules[1].keys[0]: "
  done
  # across files: a duplicate name and one target from two sources, both rules named
  cat >"$T/a.yaml" <<'RULES'
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
rules:
  - {name: one, source: {namespace: a, names: [x]}, targets: {namespaces: [b]}}
RULES
  sed 's/namespace: a,/namespace: c,/; s/name: one/name: two/' "$T/a.yaml" >"$T/b.yaml"
  mkdir "$T/dir"; cp "$T/a.yaml" "$T/b.yaml" "$T/dir/"
  run kubectl cmsync validate -f "$T/dir"
  expect_rc 2
  expect_eq "$err" "error: $T/dir/b.yaml:4:5: rules \"one\" and \"two\" would both manage ConfigMap b/x, from a/x and c/x"
  run kubectl cmsync validate -f "$T/a.yaml" -f "$T/a.yaml"
  expect_rc 2
  expect_in "$err" "rule name \"one\" is already used at $T/a.yaml:4:5"
  run kubectl cmsync diff -f "$T/a.yaml" a b
  expect_rc 2
  expect_in "$err" "-f cannot be combined with namespaces on the command line"
  # every -f is read and every error told at once: a bad file, an empty folder, a missing file
  mkdir "$T/empty"
  run kubectl cmsync validate -f "$T/bad.yaml" -f "$T/empty" -f "$T/missing.yaml"
  expect_rc 2
  expect_in "$err" "error: $T/bad.yaml:10:12: rules[1].keys[0]: "
  expect_in "$err" "error: $T/empty: no *.yaml, *.yml or *.json file in this folder"
  expect_in "$err" "error: $T/missing.yaml: cannot read this file"
  # a flag that -f excludes is refused before stdin is read (a writer that never closes it)
  for c in diff sync watch; do
    run timeout 10 kubectl cmsync "$c" -f - --all < <(sleep 30)
    expect_rc 2
    expect_in "$err" "-f cannot be combined with --all"
  done
}

test_watch_rules_file_follows_edits_without_restarting() {
  local a b c d
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst); d=$(new_ns dst)
  k -n "$a" create configmap one --from-literal=k=1 >/dev/null
  k -n "$a" create configmap two --from-literal=k=2 >/dev/null
  k -n "$a" create configmap three --from-literal=k=3 >/dev/null
  rules() {  # name:cm:target...
    printf 'apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\nrules:\n'
    for r in "$@"; do
      IFS=: read -r name cm target <<<"$r"
      printf '  - {name: %s, source: {namespace: %s, names: [%s]}, targets: {namespaces: [%s]}}\n' "$name" "$a" "$cm" "$target"
    done
  }
  # mounted as a ConfigMap volume is: the file is a symlink swapped on each change
  mkdir -p "$T/v1" "$T/v2" "$T/v3"
  rules "r-one:one:$b" "r-two:two:$c" >"$T/v1/cmsync.yaml"
  ln -s "$T/v1" "$T/current"
  start_watch -f "$T/current/cmsync.yaml" --log-format json
  local pid
  pid=$(cat "$T/watch.pid")
  wait_for 20 key_is "$b" one k 1
  wait_for 20 key_is "$c" two k 2
  # add r-three, drop r-two
  rules "r-one:one:$b" "r-three:three:$d" >"$T/v2/cmsync.yaml"
  ln -sfn "$T/v2" "$T/current"
  wait_for 20 key_is "$d" three k 3
  wait_for 10 grep -q 'rule r-two: removed or changed: stopped' "$T/watch.err"
  k -n "$a" patch configmap two --type merge -p '{"data":{"k":"2b"}}' >/dev/null
  k -n "$a" patch configmap one --type merge -p '{"data":{"k":"1b"}}' >/dev/null
  wait_for 20 key_is "$b" one k 1b
  sleep 1
  expect_eq "$(cm_key "$c" two k)" 2 "the removed rule's copy stays, no longer updated"
  # an invalid edit: logged, the rules keep running
  printf 'apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\nrules:\n  - {name: Bad}\n' >"$T/v3/cmsync.yaml"
  ln -sfn "$T/v3" "$T/current"
  wait_for 10 grep -q 'invalid rules file, the running rules stay' "$T/watch.err"
  k -n "$a" patch configmap three --type merge -p '{"data":{"k":"3b"}}' >/dev/null
  wait_for 20 key_is "$d" three k 3b
  expect_eq "$(cat "$T/watch.pid")" "$pid" "the same process throughout"
  stop_watch INT
  expect_eq "$(jq -r 'select(.target != null) | .rule + " " + .target + " " + .action' "$T/watch.out" | sort | paste -sd,)" \
    "$(printf '%s\n' "r-one $b/one created" "r-one $b/one updated" "r-three $d/three created" "r-three $d/three updated" "r-two $c/two created" | sort | paste -sd,)"
}

test_rules_schema_accepts_the_example_and_rejects_mistakes() {
  # the schema editors use (yaml-language-server), checked with python3-jsonschema
  local check='import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(sys.stdin)))
print(len(errors))'
  local schema=$CMSYNC_SOURCE_DIR/schema/syncconfig.json example=$CMSYNC_SOURCE_DIR/schema/example.yaml
  expect_eq "$(/usr/bin/python3 -c "$check" "$schema" <"$example")" 0 "schema errors in the example"
  run kubectl cmsync validate -f "$example"
  expect_rc 0
  expect_in "$out" "4 rules valid"
  for mistake in 's/prune: true/prune: "yes"/' 's/names: \[ca-bundle\]/names: [ca-bundle], all: true/' \
    's/keys: \[config.yaml\]/keys: [config.yaml]\n    force: true/' 's/exclude: \[kube-system\]/exclude: [Kube_System]/' 's/kind: Secret/kind: Pod/'; do
    sed "$mistake" "$example" >"$T/bad.yaml"
    local n
    n=$(/usr/bin/python3 -c "$check" "$schema" <"$T/bad.yaml")
    (( n >= 1 )) || fail "the schema accepts a mistake: $mistake"
    run kubectl cmsync validate -f "$T/bad.yaml"
    expect_rc 2
  done
}

# Issue 28: from 20 ConfigMap rules on, the rules' watchers share one cluster-wide stream (a
# list and a watch between them) instead of a list and a watch per namespace per rule. What each
# rule does must not change: copies, a source change, a hand edit kept as a conflict, a rule
# added later (its join restarts the shared stream; the others keep working).
test_watch_many_rules_share_one_cluster_wide_stream() {
  local a n=22 i
  a=$(new_ns src)
  local targets=()
  for i in $(seq 1 $((n + 1))); do
    k -n "$a" create configmap "cm-$i" --from-literal=k="v$i" >/dev/null
    targets+=("$(new_ns dst)")
  done
  rules() {  # COUNT
    printf 'apiVersion: cmsync.io/v1alpha1\nkind: SyncConfig\nrules:\n'
    for i in $(seq 1 "$1"); do
      printf '  - {name: r-%s, source: {namespace: %s, names: [cm-%s]}, targets: {namespaces: [%s]}}\n' "$i" "$a" "$i" "${targets[$((i - 1))]}"
    done
  }
  mkdir -p "$T/v1" "$T/v2"
  rules "$n" >"$T/v1/cmsync.yaml"
  ln -s "$T/v1" "$T/current"
  start_watch -f "$T/current/cmsync.yaml" -v 6
  for i in $(seq 1 "$n"); do wait_for 30 key_is "${targets[$((i - 1))]}" "cm-$i" k "v$i"; done
  local lines
  lines=$(request_lines "$(cat "$T/watch.err")")
  expect_match "$lines" "GET https://[^ ]*/api/v1/configmaps\?[^ ]*watch=1"
  # no list or watch of a namespace of the rules' (their writes are POSTs and PUTs)
  ! grep -qE "GET [^ ]*/namespaces/(${targets[0]}|$a)/configmaps\?" <<<"$lines" || fail "a stream of its own"
  k -n "$a" patch configmap cm-5 --type merge -p '{"data":{"k":"v5b"}}' >/dev/null
  wait_for 20 key_is "${targets[4]}" cm-5 k v5b
  k -n "${targets[6]}" patch configmap cm-7 --type merge -p '{"data":{"k":"mine"}}' >/dev/null
  wait_for 20 grep -q "r-7/${targets[6]}/cm-7 drift (conflict k)" "$T/watch.out"
  # one more rule: it joins the shared stream
  rules $((n + 1)) >"$T/v2/cmsync.yaml"
  ln -sfn "$T/v2" "$T/current"
  wait_for 30 key_is "${targets[$n]}" "cm-$((n + 1))" k "v$((n + 1))"
  k -n "$a" patch configmap cm-1 --type merge -p '{"data":{"k":"v1b"}}' >/dev/null
  wait_for 20 key_is "${targets[0]}" cm-1 k v1b
  stop_watch INT
  expect_eq "$(cm_key "${targets[6]}" cm-7 k)" mine "the hand edit"
  lines=$(request_lines "$(cat "$T/watch.err")")
  ! grep -qE "GET [^ ]*/namespaces/${targets[$n]}/configmaps\?" <<<"$lines" || fail "the rule added later has a stream of its own"
}
