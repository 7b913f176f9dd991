# Installing the controller for rule objects (issue 28): deploy/rules-from-cluster/ (kustomize)
# and charts/kubectl-cmsync (Helm, with helm built from its pinned Go module by
# tests/tools/helm/build), against the real apiserver; the tenants' RBAC with the bootstrap
# edit and view roles filled by kube-controller-manager's clusterrole-aggregation controller
# (tests/cluster/up --controllers). Objects are read back with kubectl and jq, never cmsync.

chart_dir() { echo "$CMSYNC_SOURCE_DIR/charts/kubectl-cmsync"; }
helm_bin() { "$CMSYNC_SOURCE_DIR/tests/tools/helm/build"; }

# doc KIND NAME: the object of KIND and NAME among the YAML documents on stdin, as JSON.
doc() {
  python3 -c '
import sys, yaml, json
found = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == sys.argv[1] and d["metadata"]["name"] == sys.argv[2]]
print(json.dumps(found[0]) if found else "null")' "$1" "$2"
}
# kinds: "KIND NAME" of each YAML document on stdin, sorted.
kinds() {
  python3 -c '
import sys, yaml
print("\n".join(sorted(d["kind"] + " " + d["metadata"]["name"] for d in yaml.safe_load_all(sys.stdin) if d)))'
}
args_of() { jq -r '.spec.template.spec.containers[0].args | join(" ")'; }

# The controller's role for rule objects, as "RESOURCES: VERBS" lines.
rule_role_rules() { jq -r '.rules[] | "\(.resources | join(",")): \(.verbs | join(","))"'; }
expected_rule_role_rules='clustersyncrules,syncrules,syncgrants: get,list,watch
clustersyncrules/status,syncrules/status: patch'

# A namespace enforcing (and warning about) Pod Security "restricted", as deploy/'s.
restricted_ns() {
  local ns
  ns=$(new_ns "$1")
  k label namespace "$ns" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/warn=restricted >/dev/null
  echo "$ns"
}

test_install_kustomize_rules_from_cluster_runs_rule_objects_without_the_rules_file() {
  kubectl kustomize "$CMSYNC_SOURCE_DIR/deploy/rules-from-cluster" >"$T/all.yaml"
  expect_eq "$(doc Deployment kubectl-cmsync <"$T/all.yaml" | args_of)" \
    "watch --rules-from-cluster --leader-elect --metrics-bind-address=:8080 --record-events --log-format=json"
  expect_eq "$(doc Deployment kubectl-cmsync <"$T/all.yaml" | jq -c '[.spec.template.spec.volumes, .spec.template.spec.containers[0].volumeMounts]')" "[null,null]"
  expect_eq "$(doc ConfigMap kubectl-cmsync-rules <"$T/all.yaml")" null
  expect_eq "$(doc ClusterRole kubectl-cmsync-rules <"$T/all.yaml" | rule_role_rules)" "$expected_rule_role_rules"
  expect_eq "$(doc ClusterRoleBinding kubectl-cmsync-writer <"$T/all.yaml" | jq -c '[.roleRef.name, .subjects]')" \
    '["kubectl-cmsync-writer",[{"kind":"ServiceAccount","name":"kubectl-cmsync","namespace":"cmsync-system"}]]'
  # the rest is deploy/ as it is, CRDs and tenants' roles included
  kubectl kustomize "$CMSYNC_SOURCE_DIR/deploy" >"$T/file-mode.yaml"
  expect_eq "$(kinds <"$T/all.yaml")" "$( (kinds <"$T/file-mode.yaml"; printf '%s\n' \
    'ClusterRole kubectl-cmsync-rules' 'ClusterRoleBinding kubectl-cmsync-rules' \
    'ClusterRoleBinding kubectl-cmsync-writer') | grep -v '^ConfigMap kubectl-cmsync-rules$' | sort)"
  expect_in "$(kinds <"$T/file-mode.yaml")" "CustomResourceDefinition syncrules.cmsync.io"
  expect_in "$(kinds <"$T/file-mode.yaml")" "ClusterRole cmsync-edit"
  # the API server takes all of it, with no Pod Security warning (deploy/'s namespace enforces
  # restricted; applied for real first, as deploy_test.sh does, so its labels are checked)
  kubectl kustomize "$CMSYNC_SOURCE_DIR/deploy" | python3 -c '
import sys, yaml
print(yaml.safe_dump([d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "Namespace"][0]))' |
    k apply -f - >/dev/null
  run k apply -k "$CMSYNC_SOURCE_DIR/deploy/rules-from-cluster" --dry-run=server
  expect_rc 0
  expect_in "$out" "clusterrole.rbac.authorization.k8s.io/kubectl-cmsync-rules created (server dry run)"
  expect_not_in "$err" "Warning"
}

# sa_token_dir NAMESPACE SA: a folder like the kubelet's projected ServiceAccount volume on the
# test's own cluster (token from the TokenRequest API, ca.crt, namespace). Prints the folder.
sa_token_dir() {
  local folder=$T/sa-$2
  mkdir -p "$folder"
  kc -n "$1" create token "$2" --duration 1h >"$folder/token"
  cp "$dir/pki/ca.crt" "$folder/ca.crt"
  printf '%s' "$1" >"$folder/namespace"
  echo "$folder"
}

# in_pod SA_DIR ARGS...: kubectl-cmsync ARGS as a pod runs it: no kubeconfig, the service
# host and port set, SA_DIR bound over the ServiceAccount folder in a private mount namespace.
in_pod() {
  local folder=$1
  shift
  env -i PATH="$PATH" HOME="$T" POD_NAME=kubectl-cmsync-0 KUBERNETES_SERVICE_HOST=127.0.0.1 \
    KUBERNETES_SERVICE_PORT="$(sed 's/.*://' "$dir/server")" \
    unshare -m --propagation private sh -c \
    'mount --bind "$0" /var/run/secrets/kubernetes.io/serviceaccount && exec kubectl-cmsync "$@"' \
    "$folder" "$@" >"$T/pod.log" 2>&1 &
  echo $! >>"$T/bg.pids"
}

# pod_wait SECONDS CMD...: polls CMD until it succeeds; on timeout fails with the pod's log.
pod_wait() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    (( SECONDS < deadline )) || { out=$(tail -n 40 "$T/pod.log"); fail "timed out waiting for: $*"; }
    sleep 0.2
  done
}
copy_is() { [[ $(kc -n "$1" get configmap "$2" -o jsonpath="{.data.$3}" 2>/dev/null) == "$4" ]]; }
ready_is() {
  [[ $(kc get clustersyncrule "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}') == "$2" ]]
}

test_install_kustomize_rules_from_cluster_as_its_pod_runs_it_copies_and_reports_ready() {
  [[ $(id -u) -eq 0 ]] || { echo "needs root for unshare -m (private mounts)"; exit 77; }
  mkdir -p /var/run/secrets/kubernetes.io/serviceaccount
  local dir admin src team folder
  own_cluster  # a ClusterRoleBinding of the writer here would change what other tests see
  run kc apply -k "$CMSYNC_SOURCE_DIR/deploy/rules-from-cluster"
  expect_rc 0
  kc wait --for condition=established --timeout=30s crd/clustersyncrules.cmsync.io >/dev/null
  kc create namespace src >/dev/null
  kc create namespace team >/dev/null
  kc -n src create configmap app --from-literal=k=v1 >/dev/null
  # the Deployment's own arguments, but metrics on a free loopback port
  local args
  args=$(kc -n cmsync-system get deployment kubectl-cmsync -o json | args_of)
  expect_in "$args" "--rules-from-cluster"
  folder=$(sa_token_dir cmsync-system kubectl-cmsync)
  # shellcheck disable=SC2086
  in_pod "$folder" ${args/--metrics-bind-address=:8080/--metrics-bind-address=127.0.0.1:0}
  kc apply -f - >/dev/null <<'YAML'
apiVersion: cmsync.io/v1alpha1
kind: ClusterSyncRule
metadata: {name: app}
spec:
  source: {namespace: src, names: [app]}
  targets: {namespaces: [team]}
YAML
  pod_wait 30 copy_is team app k v1
  pod_wait 30 ready_is app "True InStep"
  expect_eq "$(kc get clustersyncrule app -o jsonpath='{.status.targets} {.status.inStep}')" "1 1"
  # the ServiceAccount wrote the copy and the status, and nothing of the rule but its status
  local sa=system:serviceaccount:cmsync-system:kubectl-cmsync writes
  writes=$(jq -r --arg sa "$sa" 'select(.stage == "ResponseComplete" and .user.username == $sa
    and .responseStatus.code < 300 and (.verb == "create" or .verb == "update" or .verb == "patch"))
    | "\(.verb) \(.objectRef.resource)\(if .objectRef.subresource then "/" + .objectRef.subresource else "" end)"' \
    "$dir/audit.log" | sort -u)
  expect_in "$writes" "create configmaps"
  expect_in "$writes" "patch clustersyncrules/status"
  expect_eq "$(grep -c '^patch clustersyncrules$\|^update clustersyncrules$' <<<"$writes" || true)" 0
}

# render [HELM_ARGS...]: `helm template cmsync` of the chart into cmsync-system, CRDs included.
render() { "$helm" template cmsync "$(chart_dir)" -n cmsync-system --include-crds "$@"; }

test_install_helm_chart_lints_and_renders_what_the_values_say() {
  local helm name=cmsync-kubectl-cmsync d
  helm=$(helm_bin)
  expect_match "$("$helm" version --short)" '^v3\.21\.4'
  run "$helm" lint --strict "$(chart_dir)"
  expect_rc 0
  expect_in "$out" "1 chart(s) linted, 0 chart(s) failed"
  # defaults: rule objects, leader election, JSON logs, the chart's appVersion as image tag
  render >"$T/default.yaml"
  d=$(doc Deployment "$name" <"$T/default.yaml")
  expect_eq "$(args_of <<<"$d")" \
    "watch --rules-from-cluster --leader-elect --leader-elect-name=kubectl-cmsync --metrics-bind-address=:8080 --record-events --log-format=json"
  expect_eq "$(jqv "$d" '.spec.replicas')" 2
  expect_eq "$(jqv "$d" '.spec.template.spec.containers[0].image')" \
    "kubectl-cmsync:$(awk '$1 == "appVersion:" {print $2}' "$(chart_dir)/Chart.yaml")"
  expect_eq "$(jqv "$d" '.spec.template.spec.volumes')" null
  expect_eq "$(jqv "$d" '.spec.template.spec.containers[0].resources.limits.memory')" 256Mi
  expect_eq "$(doc ClusterRole "$name-rules" <"$T/default.yaml" | rule_role_rules)" "$expected_rule_role_rules"
  expect_eq "$(doc ClusterRoleBinding "$name-writer" <"$T/default.yaml" | jq -r .roleRef.name)" "$name-writer"
  expect_eq "$(doc ClusterRole "$name-edit" <"$T/default.yaml" | jq -r '.metadata.labels["rbac.authorization.k8s.io/aggregate-to-edit"]')" true
  expect_eq "$(doc PodDisruptionBudget "$name" <"$T/default.yaml" | jq -r .spec.minAvailable)" 1
  expect_eq "$(doc Service "$name-metrics" <"$T/default.yaml" | jq -c '.spec.ports[0] | [.port, .targetPort]')" '[8080,"metrics"]'
  # the CRDs are deploy/crds' files (scripts/gen-crds writes both; crd_test.sh checks)
  for f in "$CMSYNC_SOURCE_DIR"/deploy/crds/*.yaml; do
    cmp -s "$f" "$(chart_dir)/crds/$(basename "$f")" || fail "$(basename "$f") differs in the chart"
  done
  # values override: they show up where they belong
  render --set image.repository=registry.example/cmsync --set image.tag=v9.9.9 \
    --set image.pullPolicy=Always --set log.format=text --set log.verbosity=6 \
    --set leaderElection.leaseName=other-lease --set recordEvents=false --set replicas=3 \
    --set resources.limits.memory=300Mi >"$T/override.yaml"
  d=$(doc Deployment "$name" <"$T/override.yaml")
  expect_eq "$(args_of <<<"$d")" \
    "watch --rules-from-cluster --leader-elect --leader-elect-name=other-lease --metrics-bind-address=:8080 --log-format=text --v=6"
  expect_eq "$(jqv "$d" '.spec.template.spec.containers[0] | "\(.image) \(.imagePullPolicy) \(.resources.limits.memory)"')" \
    "registry.example/cmsync:v9.9.9 Always 300Mi"
  expect_eq "$(jqv "$d" '.spec.replicas')" 3
  # leader election off: no flag and no Lease role
  render --set leaderElection.enabled=false >"$T/single.yaml"
  expect_not_in "$(doc Deployment "$name" <"$T/single.yaml" | args_of)" "--leader-elect"
  expect_eq "$(doc Role "$name-leader-election" <"$T/single.yaml")" null
  # a rules file: watch -f on a mounted ConfigMap holding it; no rule-object role, and the
  # writer is bound nowhere (namespaces grant it)
  render --set mode=rulesFile --set-file rulesFile="$CMSYNC_SOURCE_DIR/deploy/rules.yaml" >"$T/file.yaml"
  d=$(doc Deployment "$name" <"$T/file.yaml")
  expect_eq "$(args_of <<<"$d")" \
    "watch -f /etc/cmsync/rules.yaml --leader-elect --leader-elect-name=kubectl-cmsync --metrics-bind-address=:8080 --record-events --log-format=json"
  expect_eq "$(jqv "$d" '.spec.template.spec.volumes[0].configMap.name')" "$name-rules"
  expect_eq "$(doc ConfigMap "$name-rules" <"$T/file.yaml" | jq -r '.data["rules.yaml"]')" "$(cat "$CMSYNC_SOURCE_DIR/deploy/rules.yaml")"
  doc ConfigMap "$name-rules" <"$T/file.yaml" | jq -r '.data["rules.yaml"]' >"$T/rules.yaml"
  run kubectl cmsync validate -f "$T/rules.yaml"
  expect_rc 0
  expect_eq "$(doc ClusterRole "$name-rules" <"$T/file.yaml")" null
  expect_eq "$(doc ClusterRoleBinding "$name-writer" <"$T/file.yaml")" null
  render --set rbac.writeEverywhere=false --set rbac.aggregateToTenants=false >"$T/narrow.yaml"
  expect_eq "$(doc ClusterRoleBinding "$name-writer" <"$T/narrow.yaml")" null
  expect_eq "$(doc ClusterRole "$name-edit" <"$T/narrow.yaml")" null
  # what cannot work is refused at render time
  run render --set mode=rulesFile
  expect_rc 1
  expect_in "$err" "mode rulesFile needs rulesFile"
  run render --set mode=files
  expect_rc 1
  expect_in "$err" 'mode is rulesFromCluster or rulesFile, not "files"'
  run render --set log.format=xml
  expect_rc 1
  expect_in "$err" 'log.format is json or text, not "xml"'
}

test_install_helm_template_passes_server_dry_run_in_a_restricted_namespace() {
  local helm ns
  helm=$(helm_bin)
  ns=$(restricted_ns cmsync)
  # (server dry run: nothing is stored, so the cluster-scoped objects touch no other test)
  for mode in rulesFromCluster rulesFile; do
    "$helm" template cmsync "$(chart_dir)" -n "$ns" --include-crds --set mode="$mode" \
      --set-file rulesFile="$CMSYNC_SOURCE_DIR/deploy/rules.yaml" >"$T/$mode.yaml"
    run k apply --dry-run=server -f "$T/$mode.yaml"
    expect_rc 0
    expect_in "$out" "deployment.apps/cmsync-kubectl-cmsync created (server dry run)"
    expect_in "$out" "customresourcedefinition.apiextensions.k8s.io/syncrules.cmsync.io"
    expect_not_in "$err" "Warning"
  done
  expect_in "$out" "configmap/cmsync-kubectl-cmsync-rules created (server dry run)"
}

# as_user USER ARGS...: kubectl as the cluster's admin impersonating USER (no groups).
as_user() { local user=$1; shift; kc --as="$user" "$@"; }

sync_rule_yaml() {  # name
  printf 'apiVersion: cmsync.io/v1alpha1\nkind: SyncRule\nmetadata: {name: %s}\nspec:\n  source: {names: [app]}\n  targets: {namespaces: [b]}\n' "$1"
}
grant_yaml() { printf 'apiVersion: cmsync.io/v1alpha1\nkind: SyncGrant\nmetadata: {name: from-a}\nspec:\n  from: [{namespace: a}]\n'; }
cluster_rule_yaml() {
  printf 'apiVersion: cmsync.io/v1alpha1\nkind: ClusterSyncRule\nmetadata: {name: by-tenant}\nspec:\n  source: {namespace: a, names: [app]}\n  targets: {namespaces: [b]}\n'
}
# edit_has_syncrules: the aggregation controller has copied cmsync's rules into `edit`.
edit_has_syncrules() {
  kc get clusterrole edit -o json | jq -e 'any(.rules[]; (.resources // []) | index("syncrules"))' >/dev/null
}

# tenancy INSTALL...: on a cluster of the test's own with the clusterrole-aggregation
# controller, alice has `edit` and bob `view` in namespace a (RoleBindings to the bootstrap
# roles). With the CRDs alone neither may touch rule objects; after INSTALL (run with kc's
# kubeconfig as KUBECONFIG), alice manages SyncRules and SyncGrants in a but not elsewhere and
# no ClusterSyncRule, and bob reads them and writes nothing.
tenancy() {
  local dir admin
  own_cluster --controllers clusterrole-aggregation
  kc apply -f "$CMSYNC_SOURCE_DIR/deploy/crds/" >/dev/null
  kc wait --for condition=established --timeout=30s crd/syncrules.cmsync.io crd/syncgrants.cmsync.io \
    crd/clustersyncrules.cmsync.io >/dev/null
  kc create namespace a >/dev/null
  kc create namespace b >/dev/null
  kc -n a create rolebinding alice-edit --clusterrole=edit --user=alice >/dev/null
  kc -n a create rolebinding bob-view --clusterrole=view --user=bob >/dev/null
  # edit works (the controller filled it: alice may create ConfigMaps) but knows no rule objects yet
  wait_for 30 bash -c "kubectl --kubeconfig '$admin' --as=alice -n a auth can-i create configmaps | grep -qx yes"
  run as_user alice -n a create -f - < <(sync_rule_yaml before)
  expect_rc 1
  expect_in "$err" 'syncrules.cmsync.io is forbidden: User "alice" cannot create resource "syncrules"'

  KUBECONFIG=$admin "$@" >"$T/install.log" 2>&1 || { out=$(cat "$T/install.log"); fail "install failed"; }
  wait_for 30 edit_has_syncrules
  wait_for 30 bash -c "kubectl --kubeconfig '$admin' --as=bob -n a auth can-i list syncrules.cmsync.io | grep -qx yes"

  run as_user alice -n a create -f - < <(sync_rule_yaml share)
  expect_rc 0
  expect_in "$out" "syncrule.cmsync.io/share created"
  run as_user alice -n a create -f - < <(grant_yaml)
  expect_rc 0
  expect_in "$out" "syncgrant.cmsync.io/from-a created"
  run as_user alice -n a patch syncrule share --type=merge -p '{"spec":{"keys":["config.yaml"]}}'
  expect_rc 0
  run as_user alice -n a delete syncgrant from-a
  expect_rc 0
  run as_user alice create -f - < <(cluster_rule_yaml)
  expect_rc 1
  expect_in "$err" 'User "alice" cannot create resource "clustersyncrules" in API group "cmsync.io" at the cluster scope'
  run as_user alice -n b create -f - < <(sync_rule_yaml elsewhere)
  expect_rc 1
  expect_in "$err" 'User "alice" cannot create resource "syncrules" in API group "cmsync.io" in the namespace "b"'
  run as_user alice -n a patch syncrule share --subresource=status --type=merge -p '{"status":{"targets":9}}'
  expect_rc 1
  # (kubectl reads the subresource before patching it; neither is granted: status is the controller's)
  expect_in "$err" 'User "alice" cannot get resource "syncrules/status"'

  run as_user bob -n a get syncrules
  expect_rc 0
  expect_in "$out" "share"
  run as_user bob -n a get syncrule share -o jsonpath='{.spec.keys[0]}'
  expect_eq "$out" config.yaml
  run as_user bob -n a create -f - < <(sync_rule_yaml bobs)
  expect_rc 1
  expect_in "$err" 'User "bob" cannot create resource "syncrules"'
  run as_user bob -n a delete syncrule share
  expect_rc 1
  expect_in "$err" 'User "bob" cannot delete resource "syncrules"'
  run as_user bob get clustersyncrules
  expect_rc 1
  expect_in "$err" 'cannot list resource "clustersyncrules"'
}

test_install_tenancy_with_kustomize_edit_manages_syncrules_in_its_namespace_and_view_reads_them() {
  tenancy kubectl apply -k "$CMSYNC_SOURCE_DIR/deploy/rules-from-cluster"
}

test_install_tenancy_with_helm_edit_manages_syncrules_in_its_namespace_and_view_reads_them() {
  local helm
  helm=$(helm_bin)
  # a real `helm install` (CRDs from crds/ first, then the templates; the release is stored)
  tenancy "$helm" install cmsync "$(chart_dir)" -n cmsync-system --create-namespace
}
