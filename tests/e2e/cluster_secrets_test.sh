# Clusters from Secrets (issue 30, "in the cluster"): kubectl-cmsync run as a pod runs it (no
# kubeconfig, KUBERNETES_SERVICE_HOST/PORT, a service account folder bound over
# /var/run/secrets/kubernetes.io/serviceaccount in a private mount namespace) against the
# suite's cluster as the hub, reaching member-a through a Cluster API `member-a-kubeconfig`
# Secret and member-b through an Argo CD cluster Secret holding a service account token of
# member-b. The hub's service account may only get those two Secrets by name. Results are
# checked with kubectl in each cluster; who wrote what with each member's audit log.

secrets_prereqs() {
  [[ $(id -u) -eq 0 ]] || { echo "needs root for unshare -m (private mounts)"; exit 77; }
  mkdir -p /var/run/secrets/kubernetes.io/serviceaccount
}

# incluster ARGS...: `kubectl-cmsync ARGS` as a pod of service account cmsync in namespace
# $ctl on the hub would run it (env -i: no KUBECONFIG, no HOME kubeconfig); output in
# $out/$err/$rc as `run` leaves them. Extra environment from $incluster_env (NAME=VALUE...).
incluster() {
  local port
  port=$(sed 's/.*://' "$CMSYNC_CLUSTER_DIR/server")
  run env -i PATH="$PATH" HOME="$T/home" KUBERNETES_SERVICE_HOST=127.0.0.1 \
    KUBERNETES_SERVICE_PORT="$port" "${incluster_env[@]}" \
    unshare -m --propagation private sh -c \
    'mount --bind "$0" /var/run/secrets/kubernetes.io/serviceaccount && exec kubectl-cmsync "$@"' \
    "$T/sa" "$@"
}

# The users that wrote ConfigMaps into namespace web of a member, in order.
web_writers() {  # cluster_dir
  jq -r 'select(.stage == "ResponseComplete" and .objectRef.resource == "configmaps"
    and .objectRef.namespace == "web" and (.verb == "create" or .verb == "update"))
    | .user.username' "$1/audit.log"
}

test_cluster_secrets_in_cluster_sync_diff_and_a_token_rotated_in_place() {
  secrets_prereqs
  local member_a member_b clusters
  member_clusters
  local src ctl
  src=$(new_ns src)
  ctl=$(new_ns ctl)  # the controller's own namespace on the hub
  kh -n "$src" create configmap app-config --from-literal=config.yaml=$'log: info\n' \
    --from-literal=hub-only=x >/dev/null

  # The hub: service account cmsync, reading its source and only the two cluster Secrets, by name.
  kh -n "$ctl" create serviceaccount cmsync >/dev/null
  kh -n "$ctl" create role cluster-secrets --verb=get --resource=secrets \
    --resource-name=member-a-kubeconfig --resource-name=member-b-cluster >/dev/null
  kh -n "$ctl" create rolebinding cluster-secrets --role=cluster-secrets \
    --serviceaccount="$ctl:cmsync" >/dev/null
  kh -n "$src" create role source --verb=get,list,watch --resource=configmaps >/dev/null
  kh -n "$src" create rolebinding source --role=source --serviceaccount="$ctl:cmsync" >/dev/null
  mkdir -p "$T/sa" "$T/home"
  kh -n "$ctl" create token cmsync --duration 1h >"$T/sa/token"
  cp "$CMSYNC_CLUSTER_DIR/pki/ca.crt" "$T/sa/ca.crt"
  printf '%s' "$ctl" >"$T/sa/namespace"

  # member-a: a Cluster API kubeconfig Secret (embedded admin client certificate, as CAPI writes).
  ka create namespace web >/dev/null
  ka -n web create configmap app-config --from-literal=local=mine >/dev/null
  kubectl --kubeconfig "$clusters" --context member-a config view --minify --flatten >"$T/member-a.kubeconfig"
  kh -n "$ctl" create secret generic member-a-kubeconfig --type=cluster.x-k8s.io/secret \
    --from-file=value="$T/member-a.kubeconfig" >/dev/null
  kh -n "$ctl" label secret member-a-kubeconfig cluster.x-k8s.io/cluster-name=member-a >/dev/null

  # member-b: an Argo CD cluster Secret with the bearer token of service account remote-1,
  # which may write ConfigMaps in web only (remote-2 is bound too, for the rotation below).
  kb create namespace web >/dev/null
  kb create namespace cmsync-remote >/dev/null
  kb -n cmsync-remote create serviceaccount remote-1 >/dev/null
  kb -n web create role writer --verb=get,list,watch,create,update --resource=configmaps >/dev/null
  kb -n web create rolebinding writer --role=writer --serviceaccount=cmsync-remote:remote-1 \
    --serviceaccount=cmsync-remote:remote-2 >/dev/null
  local token_1 token_2 ca_b
  token_1=$(kb -n cmsync-remote create token remote-1 --duration 1h)
  ca_b=$(base64 -w0 <"$member_b/pki/ca.crt")
  argo_secret() {  # token
    kh -n "$ctl" create secret generic member-b-cluster --from-literal=name=member-b \
      --from-literal=server="$(cat "$member_b/server")" \
      --from-literal=config="{\"bearerToken\":\"$1\",\"tlsClientConfig\":{\"insecure\":false,\"caData\":\"$ca_b\"}}" \
      --dry-run=client -o json |
      jq '.metadata.labels["argocd.argoproj.io/secret-type"] = "cluster"' | kh apply -f - >/dev/null
  }
  argo_secret "$token_1"

  cat >"$T/rules.yaml" <<RULES
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
clusters:
  - {name: hub, context: in-cluster}
  - {name: member-a, secret: member-a-kubeconfig}
  - {name: member-b, secret: member-b-cluster}
rules:
  - name: app
    source: {cluster: hub, namespace: $src, names: [app-config]}
    targets: {clusters: [member-a, member-b], namespaces: [web]}
    keys: [config.yaml]
RULES
  # the JSON Schema agrees
  local check='import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
print(len(list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(sys.stdin)))))'
  expect_eq "$(/usr/bin/python3 -c "$check" "$CMSYNC_SOURCE_DIR/schema/syncconfig.json" <"$T/rules.yaml")" 0 "schema errors"

  local incluster_env=()
  # diff from the Secrets: what sync will do in both members, nothing written
  incluster diff -f "$T/rules.yaml" -o json
  expect_rc 1
  expect_eq "$(jqv "$out" '[.. | objects | select(has("action") and has("cluster")) | "\(.cluster)/\(.namespace)/\(.name) \(.action)"] | sort | join(";")')" \
    "member-a/web/app-config update;member-b/web/app-config create"
  expect_eq "$(member_key kb web app-config config.yaml)" "<absent>"
  # sync from the Secrets writes the managed key into both members
  incluster sync -f "$T/rules.yaml"
  expect_rc 0
  expect_in "$out" "app/member-a/web/app-config: updated (add config.yaml)"
  expect_in "$out" "app/member-b/web/app-config: created (add config.yaml)"
  local m
  for m in ka kb; do
    expect_eq "$(member_key $m web app-config config.yaml)" 'log: info' "$m"
    expect_eq "$(member_key $m web app-config hub-only)" "<absent>" "$m"
    expect_eq "$(member_annotation $m web app-config cmsync.io/sync-from-cluster)" hub "$m"
  done
  expect_eq "$(member_key ka web app-config local)" mine
  expect_eq "$(web_writers "$member_b" | sort -u)" "system:serviceaccount:cmsync-remote:remote-1"
  # least privilege: the Secrets were read by name only (no list, no watch)
  expect_eq "$(jq -r --arg ns "$ctl" 'select(.stage == "ResponseComplete" and .objectRef.resource == "secrets"
      and .user.username == "system:serviceaccount:\($ns):cmsync") | "\(.verb) \(.objectRef.name)"' \
      "$CMSYNC_CLUSTER_DIR/audit.log" | sort -u | tr '\n' ';')" \
    "get member-a-kubeconfig;get member-b-cluster;"

  # Rotation in place, inside one running process: before cmsync's first write, a new service
  # account's token replaces the old one in the Argo CD Secret and the old account is deleted
  # (its token is refused from then on). cmsync read the Secret with the old token; its next
  # request to member-b gets 401, it reads the Secret again and goes on with the new token.
  cat >"$T/rotate" <<ROTATE
#!/bin/bash
set -e
exec 9>"$T/rotate.lock"; flock 9
[[ -e "$T/rotated" ]] && exit 0
kb() { kubectl --kubeconfig "$clusters" --context member-b "\$@"; }
kh() { kubectl --kubeconfig "$clusters" --context hub "\$@"; }
kb -n cmsync-remote create serviceaccount remote-2 >/dev/null
kb -n cmsync-remote create token remote-2 --duration 1h >"$T/token-2"
$(declare -f argo_secret)
ca_b=$ca_b; ctl=$ctl; member_b=$member_b
argo_secret "\$(cat "$T/token-2")"
kb -n cmsync-remote delete serviceaccount remote-1 --wait >/dev/null
for i in \$(seq 100); do
  kubectl --server "\$(cat "$member_b/server")" --certificate-authority "$member_b/pki/ca.crt" \
    --token "$token_1" -n web get configmaps >/dev/null 2>&1 || break
  sleep 0.1
done
touch "$T/rotated"
ROTATE
  chmod +x "$T/rotate"
  kh -n "$src" patch configmap app-config --type merge -p '{"data":{"config.yaml":"log: warn\n"}}' >/dev/null
  incluster_env=(CMSYNC_TEST_BEFORE_WRITE="$T/rotate")
  with_fault_hooks incluster sync -f "$T/rules.yaml" -v 8
  cp "$T/out" "$T/rotation.out"; cp "$T/err" "$T/rotation.err"
  expect_rc 0
  [[ -e "$T/rotated" ]] || fail "the rotation hook did not run"
  token_2=$(cat "$T/token-2")
  expect_in "$out" "app/member-a/web/app-config: updated (modify config.yaml)"
  expect_in "$out" "app/member-b/web/app-config: updated (modify config.yaml)"
  expect_eq "$(member_key kb web app-config config.yaml)" 'log: warn'
  expect_eq "$(member_key ka web app-config config.yaml)" 'log: warn'
  # the write to member-b was made with the new token, by the process that started with the old
  expect_eq "$(web_writers "$member_b" | tail -n 1)" "system:serviceaccount:cmsync-remote:remote-2"
  # -v 8: a request to member-b refused with the old token is in the log...
  expect_match "$(request_lines "$err")" " (GET|PUT|POST) $(cat "$member_b/server")/api/v1/namespaces/web/configmaps[^ ]* 401 in "
  # ...and cmsync read the Secret twice in that run: at the start and after the 401 (the
  # hook's `kubectl apply` reads it as the admin: not counted)
  local reads_after
  reads_after=$(jq -r --arg ns "$ctl" 'select(.stage == "ResponseComplete" and .objectRef.name == "member-b-cluster"
      and .objectRef.namespace == $ns and .user.username == "system:serviceaccount:\($ns):cmsync")' \
      "$CMSYNC_CLUSTER_DIR/audit.log" | jq -s length)
  expect_eq "$reads_after" 4 "cmsync's reads of the Argo CD Secret: diff, sync, and the rotated run's two"

  # the next process reads the rotated Secret from the start: in step, nothing refused
  incluster_env=()
  incluster diff -f "$T/rules.yaml" -v 6
  expect_rc 0
  expect_not_in "$err" " 401"
  cat "$T/out" "$T/err" >>"$T/rotation.err"

  # no credential in any output, at any -v: the tokens, the member-a client key
  local key_line
  key_line=$(sed -n 's/^ *client-key-data: //p' "$T/member-a.kubeconfig" | base64 -d | sed -n 2p)
  [[ -n "$key_line" ]] || fail "no client key line to look for"
  local secret_text
  for secret_text in "$token_1" "$token_2" "$key_line" "$(cat "$T/sa/token")"; do
    ! grep -rqF -- "$secret_text" "$T/rotation.out" "$T/rotation.err" || fail "a credential in cmsync's output"
  done
}

test_cluster_secrets_refused_one_line_naming_the_secret() {
  secrets_prereqs
  local ctl src
  src=$(new_ns src)
  ctl=$(new_ns ctl)
  k -n "$src" create configmap app-config --from-literal=a=1 >/dev/null
  k -n "$ctl" create serviceaccount cmsync >/dev/null
  k -n "$ctl" create role cluster-secrets --verb=get --resource=secrets \
    --resource-name=aws-cluster --resource-name=not-a-cluster >/dev/null
  k -n "$ctl" create rolebinding cluster-secrets --role=cluster-secrets \
    --serviceaccount="$ctl:cmsync" >/dev/null
  k -n "$src" create role source --verb=get,list --resource=configmaps >/dev/null
  k -n "$src" create rolebinding source --role=source --serviceaccount="$ctl:cmsync" >/dev/null
  mkdir -p "$T/sa" "$T/home"
  k -n "$ctl" create token cmsync --duration 1h >"$T/sa/token"
  cp "$CMSYNC_CLUSTER_DIR/pki/ca.crt" "$T/sa/ca.crt"
  printf '%s' "$ctl" >"$T/sa/namespace"
  k -n "$ctl" create secret generic aws-cluster --from-literal=name=aws \
    --from-literal=server=https://eks.example:443 \
    --from-literal=config='{"awsAuthConfig":{"clusterName":"prod","roleARN":"arn:aws:iam::1:role/x"},"tlsClientConfig":{"caData":"c2VjcmV0"}}' >/dev/null
  k -n "$ctl" label secret aws-cluster argocd.argoproj.io/secret-type=cluster >/dev/null
  k -n "$ctl" create secret generic not-a-cluster --from-literal=token=hush-hush-value >/dev/null
  cat >"$T/rules.yaml" <<RULES
apiVersion: cmsync.io/v1alpha1
kind: SyncConfig
clusters:
  - {name: aws, secret: aws-cluster}
  - {name: other, secret: not-a-cluster}
  - {name: missing, secret: member-c-kubeconfig}
rules:
  - {name: to-aws, source: {namespace: $src, names: [app-config]}, targets: {clusters: [aws], namespaces: [web]}}
  - {name: to-other, source: {namespace: $src, names: [app-config]}, targets: {clusters: [other], namespaces: [web]}}
  - {name: to-missing, source: {namespace: $src, names: [app-config]}, targets: {clusters: [missing], namespaces: [web]}}
RULES
  local incluster_env=()
  incluster sync -f "$T/rules.yaml"
  expect_rc 1  # each rule fails alone
  expect_in "$out$err" "cluster Secret $ctl/aws-cluster: config.awsAuthConfig is not supported"
  expect_in "$out$err" "cluster Secret $ctl/not-a-cluster: neither an Argo CD cluster Secret"
  # a Secret outside the Role's resourceNames: forbidden, named
  expect_match "$out$err" "member-c-kubeconfig.*forbidden"
  expect_not_in "$out$err" "hush-hush-value"
  expect_not_in "$out$err" "c2VjcmV0"
}

# deploy/'s cluster-secrets component and the chart's clusterSecrets: a Role in the
# controller's own namespace granting get on the named Secrets only; nothing when none named.
test_cluster_secrets_rbac_get_by_name_in_own_namespace() {
  local rel
  mkdir -p "$T/overlay"
  rel=$(realpath --relative-to="$T/overlay" "$CMSYNC_SOURCE_DIR/deploy")
  printf 'resources: [%s]\ncomponents: [%s/cluster-secrets]\n' "$rel" "$rel" >"$T/overlay/kustomization.yaml"
  kubectl kustomize "$T/overlay" >"$T/kustomized.yaml"
  expect_eq "$(python3 -c 'import sys, yaml, json
for d in yaml.safe_load_all(sys.stdin):
    if d and d["kind"] == "Role" and d["metadata"]["name"].endswith("cluster-secrets"):
        print(json.dumps([d["metadata"]["namespace"], d["rules"]], separators=(",", ":")))' <"$T/kustomized.yaml")" \
    '["cmsync-system",[{"apiGroups":[""],"resourceNames":["prod-eu-kubeconfig","prod-us-cluster"],"resources":["secrets"],"verbs":["get"]}]]'
  # applied (into a namespace of this test): the service account may get those two by name,
  # nothing else
  local ns
  ns=$(new_ns ctl)
  k -n "$ns" create serviceaccount kubectl-cmsync >/dev/null
  python3 -c 'import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d and d["metadata"]["name"] == "kubectl-cmsync-cluster-secrets":
        d["metadata"]["namespace"] = sys.argv[1]
        for s in d.get("subjects", []):
            s["namespace"] = sys.argv[1]
        print("---\n" + yaml.safe_dump(d))' "$ns" <"$T/kustomized.yaml" | k apply -f - >/dev/null
  local as=(--as "system:serviceaccount:$ns:kubectl-cmsync" -n "$ns")
  expect_eq "$(k auth can-i "${as[@]}" get secret/prod-eu-kubeconfig)" yes
  expect_eq "$(k auth can-i "${as[@]}" get secret/prod-us-cluster)" yes
  local verb
  for verb in "get secret/other" "list secrets" "watch secrets" "update secret/prod-eu-kubeconfig"; do
    run k auth can-i "${as[@]}" $verb
    expect_eq "$out" no "$verb"
  done
  # deploy/ alone reads no Secret
  expect_eq "$(kubectl kustomize "$CMSYNC_SOURCE_DIR/deploy" | grep -c cluster-secrets || true)" 0

  local helm
  helm=$("$CMSYNC_SOURCE_DIR/tests/tools/helm/build")
  run "$helm" lint "$CMSYNC_SOURCE_DIR/charts/kubectl-cmsync" --set mode=rulesFile --set rulesFile=x \
    --set 'clusterSecrets={member-a-kubeconfig,member-b-cluster}'
  expect_rc 0
  "$helm" template cmsync "$CMSYNC_SOURCE_DIR/charts/kubectl-cmsync" -n ops --set mode=rulesFile \
    --set rulesFile=x --set 'clusterSecrets={member-a-kubeconfig,member-b-cluster}' >"$T/chart.yaml"
  expect_eq "$(python3 -c 'import sys, yaml, json
for d in yaml.safe_load_all(sys.stdin):
    if d and d["kind"] in ("Role", "RoleBinding") and d["metadata"]["name"].endswith("cluster-secrets"):
        print(d["kind"], json.dumps([d["metadata"]["namespace"], d.get("rules") or d["subjects"]], separators=(",", ":")))' <"$T/chart.yaml")" \
    'Role ["ops",[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"],"resourceNames":["member-a-kubeconfig","member-b-cluster"]}]]
RoleBinding ["ops",[{"kind":"ServiceAccount","name":"cmsync-kubectl-cmsync","namespace":"ops"}]]'
  "$helm" template cmsync "$CMSYNC_SOURCE_DIR/charts/kubectl-cmsync" -n ops >"$T/default.yaml"
  expect_not_in "$(cat "$T/default.yaml")" "cluster-secrets"
}
