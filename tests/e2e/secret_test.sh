# Secrets (issue 27) against the real apiserver: key by key, a hand edit found through
# managedFields (no digest of a value in metadata), resync, --prune, watch; checked with kubectl.

secret_key() {  # ns name key: the decoded value, or nothing
  k -n "$1" get secret "$2" -o json | jq -r --arg k "$3" '.data[$k] // empty | @base64d'
}

test_secret_sync_keeps_own_keys_and_writes_no_digest() {
  local src a b
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b)
  k -n "$src" create secret generic db --from-literal=password=s3cret-v1 --from-literal=user=app >/dev/null
  k -n "$b" create secret generic db --from-literal=own=mine >/dev/null
  run kubectl cmsync sync "$src" "$a" "$b" --kind secret --name db
  expect_rc 0
  expect_in "$out" "$a/db: created (add password, add user)"
  expect_in "$out" "$b/db: updated (add password, add user)"
  expect_eq "$(secret_key "$a" db password)" s3cret-v1
  expect_eq "$(secret_key "$b" db own)" mine
  expect_eq "$(k -n "$a" get secret db -o jsonpath='{.type}')" Opaque
  # the record names keys; nothing in metadata is derived from a value
  local meta digest
  meta=$(k -n "$a" get secret db -o json | jq -c '.metadata | del(.managedFields)')
  expect_eq "$(jq -r '.annotations["cmsync.io/managed-keys"]' <<<"$meta")" '["password","user"]'
  expect_eq "$(jq -r '.annotations["cmsync.io/last-synced"] // "none"' <<<"$meta")" none
  for v in s3cret-v1 app; do
    digest=$(printf %s "$v" | sha256sum | cut -c1-16)
    expect_not_in "$meta" "$digest"
  done
  run kubectl cmsync sync "$src" "$a" "$b" --kind cm --name db
  expect_rc 2
  expect_in "$err" "source ConfigMap \"db\" not found"
}

test_secret_hand_edit_is_a_conflict_kept_and_force_restores() {
  local src a
  src=$(new_ns src); a=$(new_ns a)
  k -n "$src" create secret generic db --from-literal=password=v1 --from-literal=user=app >/dev/null
  run kubectl cmsync sync "$src" "$a" --kind secret --name db
  expect_rc 0
  k -n "$a" patch secret db -p '{"stringData":{"user":"hand-edit"}}' >/dev/null
  k -n "$src" patch secret db -p '{"stringData":{"password":"v2","user":"app2"}}' >/dev/null
  run kubectl cmsync sync "$src" "$a" --kind secret --name db
  expect_rc 1
  expect_in "$out" "$a/db: conflict (modify password, conflict user)"
  expect_eq "$(secret_key "$a" db user)" hand-edit
  expect_eq "$(secret_key "$a" db password)" v2
  run kubectl cmsync sync "$src" "$a" --kind secret --name db --force
  expect_rc 0
  expect_eq "$(secret_key "$a" db user)" app2
  # in step: a second run writes nothing
  run kubectl cmsync sync "$src" "$a" --kind secret --name db
  expect_rc 0
  expect_in "$out" "$a/db: unchanged"
}

test_secret_resync_and_prune() {
  local src a b
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b)
  k -n "$src" create secret generic db --from-literal=password=v1 >/dev/null
  k -n "$src" create secret generic gone --from-literal=token=t1 >/dev/null
  k -n "$b" create secret generic gone --from-literal=own=mine >/dev/null
  run kubectl cmsync sync "$src" "$a" "$b" --kind secret --name db,gone
  expect_rc 0
  k -n "$src" patch secret db -p '{"stringData":{"password":"v2"}}' >/dev/null
  k -n "$b" patch secret db -p '{"stringData":{"password":"hand"}}' >/dev/null
  k -n "$src" delete secret gone >/dev/null
  run kubectl cmsync resync "$a" "$b" --kind secret
  expect_rc 1
  expect_in "$out" "4 copies: 0 in-step, 1 updated, 1 conflict, 2 orphaned, 0 error"
  expect_eq "$(secret_key "$a" db password)" v2
  expect_eq "$(secret_key "$b" db password)" hand
  run kubectl cmsync resync "$a" "$b" --kind secret --prune
  run k -n "$a" get secret gone
  expect_rc 1
  expect_eq "$(secret_key "$b" gone own)" mine
  expect_eq "$(secret_key "$b" gone token)" ""
}

test_secret_watch_propagates_and_reports_a_hand_edit() {
  local src a b
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b)
  k -n "$src" create secret generic db --from-literal=password=v1 >/dev/null
  start_watch "$src" "$a" "$b" --kind secret --name db
  wait_for 20 bash -c "[[ \"\$(kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$b' get secret db -o jsonpath='{.data.password}' 2>/dev/null)\" == '$(printf v1 | base64)' ]]"
  k -n "$a" patch secret db -p '{"stringData":{"password":"hand"}}' >/dev/null
  k -n "$src" patch secret db -p '{"stringData":{"password":"v2"}}' >/dev/null
  wait_for 20 bash -c "[[ \"\$(kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$b' get secret db -o jsonpath='{.data.password}')\" == '$(printf v2 | base64)' ]]"
  wait_for 20 grep -q "$a/db drift (conflict password)" "$T/watch.out"
  expect_eq "$(secret_key "$a" db password)" hand
  stop_watch
}

tls_secret() {  # ns name: a kubernetes.io/tls Secret with a real certificate and ca.crt
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 1 \
    -subj "/CN=$2" >/dev/null 2>&1
  k -n "$1" create secret tls "$2" --cert "$T/tls.crt" --key "$T/tls.key" >/dev/null
  k -n "$1" patch secret "$2" -p "{\"data\":{\"ca.crt\":\"$(base64 -w0 <"$T/tls.crt")\"}}" >/dev/null
}

test_secret_types_as_the_apiserver_enforces_them() {
  local src a b c
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b); c=$(new_ns c)
  tls_secret "$src" wildcard
  # a copy gets the source's type; a ca.crt-only copy is Opaque, also into an Opaque Secret
  run kubectl cmsync sync "$src" "$a" --kind secret --name wildcard
  expect_rc 0
  expect_eq "$(k -n "$a" get secret wildcard -o jsonpath='{.type}')" kubernetes.io/tls
  k -n "$b" create secret generic wildcard --from-literal=own=mine >/dev/null
  run kubectl cmsync sync "$src" "$b" "$c" --kind secret --name wildcard --keys ca.crt
  expect_rc 0
  expect_eq "$(k -n "$b" get secret wildcard -o jsonpath='{.type}')" Opaque
  expect_eq "$(k -n "$c" get secret wildcard -o jsonpath='{.type}')" Opaque
  expect_eq "$(secret_key "$b" wildcard ca.crt)" "$(cat "$T/tls.crt")"
  expect_eq "$(secret_key "$b" wildcard tls.key)" ""
  # a target of another type is a conflict; --force replaces it, keeping its own keys
  k -n "$c" delete secret wildcard >/dev/null
  k -n "$c" create secret generic wildcard --from-literal=own=mine >/dev/null
  run kubectl cmsync diff "$src" "$c" --kind secret --name wildcard
  expect_rc 1
  expect_in "$out" "type Opaque differs from kubernetes.io/tls (use --force to replace the copy)"
  run kubectl cmsync sync "$src" "$c" --kind secret --name wildcard
  expect_rc 1
  expect_in "$out" "type Opaque differs from kubernetes.io/tls"
  run kubectl cmsync sync "$src" "$c" --kind secret --name wildcard --force
  expect_rc 0
  expect_eq "$(k -n "$c" get secret wildcard -o jsonpath='{.type}')" kubernetes.io/tls
  expect_eq "$(secret_key "$c" wildcard own)" mine
  # rotation as cert-manager renews: both keys at once, each copy updated once
  local mark
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  k -n "$src" delete secret wildcard >/dev/null
  tls_secret "$src" wildcard
  run kubectl cmsync sync "$src" "$a" "$c" --kind secret --name wildcard
  expect_rc 0
  expect_eq "$(secret_key "$a" wildcard tls.key)" "$(cat "$T/tls.key")"
  expect_eq "$(tail -n +"$((mark + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "secrets" and .verb == "update" and .responseStatus.code < 300) | .objectRef.namespace' | sort | paste -sd,)" "$(printf '%s\n' "$a" "$c" | sort | paste -sd,)"
  # pruning what makes a copy a TLS Secret would leave an invalid one: an error, planned
  k -n "$src" delete secret wildcard >/dev/null
  run kubectl cmsync resync "$c" --kind secret --prune
  expect_rc 1
  expect_in "$out" "Secret \"wildcard\" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]"
  expect_eq "$(secret_key "$c" wildcard own)" mine
}

test_secret_service_account_token_source_is_refused() {
  local src a
  src=$(new_ns src); a=$(new_ns a)
  k -n "$src" create serviceaccount robot >/dev/null
  k -n "$src" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: robot-token, annotations: {kubernetes.io/service-account.name: robot}}
type: kubernetes.io/service-account-token
YAML
  # (no token controller runs here: the type is what is refused)
  run kubectl cmsync sync "$src" "$a" --kind secret --name robot-token
  expect_rc 1
  expect_in "$out" "source Secret $src/robot-token is of type kubernetes.io/service-account-token: not synced"
  run k -n "$a" get secret robot-token
  expect_rc 1
}

# The restricted user's Secret requests since audit line $1: "VERB NAMESPACE NAME" (NAME is "-"
# for a request not limited to one name).
restricted_secret_requests() {
  tail -n +"$(($1 + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "secrets" and .user.username == "cmsync-restricted") | "\(.verb) \(.objectRef.namespace // "-") \(.objectRef.name // "-")"'
}

test_secret_roles_naming_the_secret_are_enough() {
  local src a b rbac=$CMSYNC_SOURCE_DIR/deploy/rbac/secrets mark
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b)
  k -n "$src" create secret generic db --from-literal=password=v1 >/dev/null
  k -n "$src" create secret generic other --from-literal=password=not-for-cmsync >/dev/null
  k -n "$b" create secret generic unrelated --from-literal=x=y >/dev/null
  sed 's/SECRET_NAME/db/' "$rbac/source-reader.yaml" | k -n "$src" apply -f - >/dev/null
  for ns in "$a" "$b"; do sed 's/SECRET_NAME/db/' "$rbac/target-writer.yaml" | k -n "$ns" apply -f - >/dev/null; done
  local as=(--kubeconfig "$CMSYNC_RESTRICTED_KUBECONFIG")
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  run kubectl cmsync "${as[@]}" diff "$src" "$a" "$b" --kind secret --name db
  expect_rc 1
  run kubectl cmsync "${as[@]}" sync "$src" "$a" "$b" --kind secret --name db
  expect_rc 0
  expect_eq "$(secret_key "$b" db password)" v1
  start_watch "${as[@]}" "$src" "$a" "$b" --kind secret --name db --watch-scope namespaces
  k -n "$src" patch secret db -p '{"stringData":{"password":"v2"}}' >/dev/null
  wait_for 20 bash -c "[[ \"\$(kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$b' get secret db -o jsonpath='{.data.password}')\" == '$(printf v2 | base64)' ]]"
  k -n "$a" patch secret db -p '{"stringData":{"password":"hand"}}' >/dev/null
  k -n "$src" patch secret db -p '{"stringData":{"password":"v3"}}' >/dev/null
  wait_for 20 bash -c "[[ \"\$(kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$b' get secret db -o jsonpath='{.data.password}')\" == '$(printf v3 | base64)' ]]"
  wait_for 20 grep -q "$a/db drift" "$T/watch.out"
  stop_watch INT
  expect_eq "$(secret_key "$a" db password)" hand
  expect_not_in "$(cat "$T/watch.err")" "forbidden"
  # the audit log: every Secret request names db (or is a create), in the rule's namespaces
  local requests
  requests=$(restricted_secret_requests "$mark")
  expect_in "$requests" "watch $src db"
  expect_in "$requests" "watch $b db"
  expect_in "$requests" "update $b db"
  while read -r verb ns name; do
    [[ "$ns" == "$src" || "$ns" == "$a" || "$ns" == "$b" ]] || fail "a Secret request outside the rule's namespaces: $verb $ns $name"
    [[ "$name" == db || ( "$verb" == create && "$name" == - ) ]] || fail "a Secret request not limited to db: $verb $ns $name"
  done <<<"$requests"
}

test_secret_dockerconfigjson_follows_a_growing_label_selected_set_namespace_by_namespace() {
  local src a b c
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b); c=$(new_ns c)
  local sel="pull-$RANDOM$RANDOM"
  k label ns "$a" "$b" "cmsync-test=$sel" >/dev/null
  k -n "$src" create secret docker-registry regcred --docker-server=registry.example \
    --docker-username=robot --docker-password=pull-token-1 >/dev/null
  start_watch -n "$src" --target-selector "cmsync-test=$sel" --kind secret --name regcred
  for ns in "$a" "$b"; do
    wait_for 20 bash -c "kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$ns' get secret regcred >/dev/null 2>&1"
    expect_eq "$(k -n "$ns" get secret regcred -o jsonpath='{.type}')" kubernetes.io/dockerconfigjson
  done
  k label ns "$c" "cmsync-test=$sel" >/dev/null
  wait_for 20 bash -c "kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$c' get secret regcred >/dev/null 2>&1"
  expect_eq "$(secret_key "$c" regcred .dockerconfigjson)" "$(secret_key "$src" regcred .dockerconfigjson)"
  # a target selector does not make a Secret watch cluster-wide unless asked for
  expect_in "$(cat "$T/watch.err" "$T/watch.out")" "namespace scope"
  stop_watch
}

test_secret_rules_file_with_a_secret_rule_beside_a_configmap_rule() {
  local src a b
  src=$(new_ns src); a=$(new_ns a); b=$(new_ns b)
  # one name for both kinds: two targets, no overlap
  k -n "$src" create configmap app --from-literal=config.yaml=v1 >/dev/null
  k -n "$src" create secret generic app --from-literal=password=p1 >/dev/null
  cat >"$T/cmsync.yaml" <<RULES
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
rules:
  - name: config
    source: {namespace: $src, names: [app]}
    targets: {namespaces: [$a, $b]}
  - name: creds
    source: {kind: Secret, namespace: $src, names: [app]}
    targets: {namespaces: [$a, $b]}
RULES
  run kubectl cmsync validate -f "$T/cmsync.yaml"
  expect_rc 0
  run kubectl cmsync sync -f "$T/cmsync.yaml" -o json
  expect_rc 0
  expect_eq "$(jqv "$out" '[.rules[] | .name as $r | .targets[] | $r + " " + .namespace + " " + .result] | sort | join(",")')" \
    "config $a created,config $b created,creds $a created,creds $b created"
  expect_not_in "$out" "p1"
  expect_eq "$(cm_key "$a" app config.yaml)" v1
  expect_eq "$(secret_key "$b" app password)" p1
  start_watch -f "$T/cmsync.yaml"
  k -n "$src" patch secret app -p '{"stringData":{"password":"p2"}}' >/dev/null
  k -n "$src" patch configmap app --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  wait_for 20 bash -c "[[ \"\$(kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$b' get secret app -o jsonpath='{.data.password}')\" == '$(printf p2 | base64)' ]]"
  wait_for 20 key_is "$b" app config.yaml v2
  stop_watch
  expect_not_in "$(watch_log)" "p2"
}

test_secret_kind_flag_another_word_is_a_usage_error_naming_the_kinds() {
  local cmd
  for cmd in diff sync watch; do
    run kubectl cmsync "$cmd" a b --name x --kind pod
    expect_rc 2
    expect_in "$err" "--kind: must be configmap (cm) or secret, got \"pod\""
  done
  run kubectl cmsync resync -A --kind pod
  expect_rc 2
  expect_in "$err" "must be configmap (cm) or secret"
}

test_secret_several_names_under_roles_naming_them_even_past_a_410() {
  local dir admin restricted port api_port mark
  own_cluster
  kc create namespace src >/dev/null; kc create namespace a >/dev/null; kc create namespace b >/dev/null
  kc -n src create secret generic db --from-literal=password=v1 >/dev/null
  kc -n src create secret generic api --from-literal=token=t1 >/dev/null
  kc -n src create secret generic other --from-literal=password=not-for-cmsync >/dev/null
  kc -n b create secret generic unrelated --from-literal=x=y >/dev/null
  local rbac=$CMSYNC_SOURCE_DIR/deploy/rbac/secrets
  sed 's/"SECRET_NAME"/"db", "api"/' "$rbac/source-reader.yaml" | kc -n src apply -f - >/dev/null
  for ns in a b; do sed 's/"SECRET_NAME"/"db", "api"/' "$rbac/target-writer.yaml" | kc -n "$ns" apply -f - >/dev/null; done
  port=$(free_port)
  api_port=$(sed -E 's#.*:##' "$dir/server")
  start_proxy "$port" "$api_port"
  restricted=$T/restricted.kubeconfig
  sed -E "s#server: https://127.0.0.1:[0-9]+#server: https://127.0.0.1:$port#" "$dir/restricted.kubeconfig" >"$restricted"
  mark=$(wc -l <"$dir/audit.log")
  start_watch --kubeconfig "$restricted" src a b --kind secret --name db,api --watch-scope namespaces -v 6
  sv() { [[ "$(kc -n "$1" get secret "$2" -o jsonpath="{.data.$3}" 2>/dev/null | base64 -d)" == "$4" ]]; }
  for ns in a b; do wait_for 20 sv "$ns" db password v1; wait_for 20 sv "$ns" api token t1; done
  # Past the first lists: one watch per name in each namespace, each limited to that name.
  wait_for 10 grep -q "namespaces/b/secrets?watch=1.*fieldSelector=metadata.name%3Dapi" "$T/watch.err"
  kill -STOP "$(cat "$T/watch.pid")"
  cut_proxy
  kc -n src patch secret db -p '{"stringData":{"password":"v2"}}' >/dev/null
  kc -n b delete secret api >/dev/null
  for i in $(seq 1 5); do kc -n a create configmap "filler-$i" --from-literal=a=b >/dev/null; done
  "$CMSYNC_SOURCE_DIR/tests/cluster/compact" "$dir" >/dev/null
  start_proxy "$port" "$api_port"
  kill -CONT "$(cat "$T/watch.pid")"
  for ns in a b; do wait_for 40 sv "$ns" db password v2; done
  wait_for 40 sv b api token t1
  # A hand edit after the relist is reported and kept; the other copy follows the source.
  kc -n a patch secret db -p '{"stringData":{"password":"hand"}}' >/dev/null
  kc -n src patch secret db -p '{"stringData":{"password":"v3"}}' >/dev/null
  wait_for 20 sv b db password v3
  wait_for 20 grep -q "a/db drift" "$T/watch.out"
  stop_watch INT
  expect_match "$(cat "$T/watch.err")" "(410|too old).*relisting"
  expect_not_in "$(cat "$T/watch.err")" "forbidden"
  expect_eq "$(kc -n a get secret db -o jsonpath='{.data.password}' | base64 -d)" hand
  run kc -n a get secret other
  expect_rc 1
  # The audit log: every Secret request of the watcher names db or api (or is a create), in the
  # rule's namespaces; and the sources were watched by name, one stream each.
  local requests
  requests=$(tail -n +"$((mark + 1))" "$dir/audit.log" |
    jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "secrets" and .user.username == "cmsync-restricted") | "\(.verb) \(.objectRef.namespace // "-") \(.objectRef.name // "-")"')
  expect_in "$requests" "watch src db"
  expect_in "$requests" "watch src api"
  expect_in "$requests" "list b api"
  expect_match "$requests" "create b (api|-)"
  while read -r verb ns name; do
    [[ "$ns" == src || "$ns" == a || "$ns" == b ]] || fail "a Secret request outside the rule's namespaces: $verb $ns $name"
    [[ "$name" == db || "$name" == api || ( "$verb" == create && "$name" == - ) ]] || fail "a Secret request not limited to db and api: $verb $ns $name"
  done <<<"$requests"
  cut_proxy
}

test_secret_tls_to_20_namespaces_rotated_as_cert_manager_renews_each_copy_updated_once() {
  local src targets=() ns mark
  src=$(new_ns src)
  for i in $(seq 1 20); do targets+=("$(new_ns t)"); done
  tls_secret "$src" wildcard
  run kubectl cmsync sync "$src" "${targets[@]}" --kind secret --name wildcard
  expect_rc 0
  for ns in "${targets[@]:0:5}"; do  # some copies hold keys of their own
    k -n "$ns" patch secret wildcard -p '{"stringData":{"own.pem":"mine"}}' >/dev/null
  done
  start_watch "$src" "${targets[@]}" --kind secret --name wildcard --watch-scope namespaces -v 6
  wait_for 30 bash -c "[ \$(grep -c 'watch=1.*stream opened' '$T/watch.err') -ge 21 ]"
  mark=$(wc -l <"$CMSYNC_CLUSTER_DIR/audit.log")
  # As cert-manager renews: a new key and certificate in one update of the source.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/new.key" -out "$T/new.crt" -days 1 \
    -subj "/CN=wildcard" >/dev/null 2>&1
  k -n "$src" patch secret wildcard -p "{\"data\":{\"tls.crt\":\"$(base64 -w0 <"$T/new.crt")\",\"tls.key\":\"$(base64 -w0 <"$T/new.key")\"}}" >/dev/null
  for ns in "${targets[@]}"; do
    wait_for 20 bash -c "[[ \"\$(kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' -n '$ns' get secret wildcard -o jsonpath='{.data.tls\.key}')\" == '$(base64 -w0 <"$T/new.key")' ]]"
  done
  sleep 2  # time for a second write, if there were one
  stop_watch INT
  for ns in "${targets[@]}"; do
    expect_eq "$(secret_key "$ns" wildcard tls.crt)" "$(cat "$T/new.crt")"
  done
  for ns in "${targets[@]:0:5}"; do expect_eq "$(secret_key "$ns" wildcard own.pem)" mine; done
  # Each copy updated once: one accepted update per namespace, nothing else written.
  local writes
  writes=$(tail -n +"$((mark + 1))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r --arg src "$src" 'select(.stage == "ResponseComplete" and .objectRef.resource == "secrets" and (.verb == "update" or .verb == "create" or .verb == "patch" or .verb == "delete") and .objectRef.namespace != $src) | "\(.verb) \(.objectRef.namespace) \(.responseStatus.code)"' | sort)
  expect_eq "$writes" "$(for ns in "${targets[@]}"; do echo "update $ns 200"; done | sort)"
}
