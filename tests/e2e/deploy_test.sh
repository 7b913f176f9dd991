# deploy/ (issue 16): the kustomize base for the in-cluster watcher, against the real apiserver
# (Pod Security admission is on by default there). deploy/ is never deleted: without a
# controller-manager a deleted namespace would stay Terminating for the tests after this one.

deploy_dir() { echo "$CMSYNC_SOURCE_DIR/deploy"; }
cmsync_sa=system:serviceaccount:cmsync-system:kubectl-cmsync

# The Namespace alone, applied for real: Pod Security reads its labels from the stored object,
# so a dry run of a namespace that does not exist yet would check nothing.
apply_deploy_namespace() {
  kubectl kustomize "$(deploy_dir)" | python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "Namespace"]
assert len(docs) == 1, docs
print(yaml.safe_dump(docs[0]))' >"$T/namespace.yaml"
  k apply -f "$T/namespace.yaml" >/dev/null
}

# A Pod built from the Deployment's pod template of the kustomization in $1, as JSON.
pod_from_template() {
  kubectl kustomize "$1" | python3 -c '
import sys, yaml, json
d = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "Deployment"][0]
t = d["spec"]["template"]
print(json.dumps({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": d["metadata"]["name"] + "-psa-check", "namespace": d["metadata"]["namespace"],
                 "labels": t["metadata"]["labels"]},
    "spec": t["spec"]}))'
}

# An overlay of a copy of deploy/ in $T/NAME with a JSON patch of the Deployment.
broken_overlay() {  # name patch-ops-yaml
  [[ -d "$T/base" ]] || cp -r "$(deploy_dir)" "$T/base"
  mkdir -p "$T/$1"
  cat >"$T/$1/kustomization.yaml" <<OVERLAY
resources: [../base]
patches:
  - target: {kind: Deployment, name: kubectl-cmsync}
    patch: |-
      ${2//$'\n'/$'\n'      }
OVERLAY
  echo "$T/$1"
}

test_deploy_passes_restricted_pod_security_and_broken_variants_are_refused() {
  apply_deploy_namespace
  expect_eq "$(k get namespace cmsync-system -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}')" restricted
  # Pod Security only warns about a Deployment (enforce applies to Pods): a warning fails here.
  run k apply -k "$(deploy_dir)" --dry-run=server
  expect_rc 0
  expect_in "$out" "deployment.apps/kubectl-cmsync"
  expect_not_in "$err" "Warning"
  expect_not_in "$err" "PodSecurity"
  # ...and a Pod of the Deployment's template is admitted by the enforcing namespace.
  pod_from_template "$(deploy_dir)" >"$T/pod.json"
  run k create --dry-run=server -f "$T/pod.json"
  expect_rc 0
  expect_in "$out" "pod/kubectl-cmsync-psa-check created (server dry run)"

  local dir
  # (privileged: true is refused before Pod Security here: the apiserver runs without
  # --allow-privileged, and it contradicts allowPrivilegeEscalation: false anyway.)
  for variant in root capability escalation seccomp; do
    case "$variant" in
      root) dir=$(broken_overlay "$variant" '- op: remove
  path: /spec/template/spec/securityContext/runAsNonRoot
- op: remove
  path: /spec/template/spec/containers/0/securityContext/runAsNonRoot') ;;
      capability) dir=$(broken_overlay "$variant" '- op: add
  path: /spec/template/spec/containers/0/securityContext/capabilities/add
  value: [SYS_ADMIN]') ;;
      escalation) dir=$(broken_overlay "$variant" '- op: remove
  path: /spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation') ;;
      seccomp) dir=$(broken_overlay "$variant" '- op: remove
  path: /spec/template/spec/securityContext/seccompProfile
- op: remove
  path: /spec/template/spec/containers/0/securityContext/seccompProfile') ;;
    esac
    run k apply -k "$dir" --dry-run=server
    expect_rc 0
    expect_in "$err" 'would violate PodSecurity "restricted:latest"'
    pod_from_template "$dir" >"$T/pod-$variant.json"
    run k create --dry-run=server -f "$T/pod-$variant.json"
    expect_rc 1
    expect_in "$err" 'is forbidden: violates PodSecurity "restricted:latest"'
  done
  # nothing of the broken variants was stored
  run k -n cmsync-system get pod kubectl-cmsync-psa-check
  expect_rc 1
}

test_deploy_applies_for_real_with_the_documented_names() {
  apply_deploy_namespace
  run k apply -k "$(deploy_dir)"
  expect_rc 0
  expect_not_in "$err" "Warning"
  local n=cmsync-system version
  version=v$(kubectl-cmsync version | awk '{print $2}')
  k get serviceaccount -n "$n" kubectl-cmsync >/dev/null
  k get clusterrole kubectl-cmsync-reader kubectl-cmsync-writer >/dev/null
  k get role,rolebinding -n "$n" kubectl-cmsync-leader-election >/dev/null
  expect_eq "$(k get clusterrolebinding kubectl-cmsync-reader -o json | jq -c '[.roleRef.name, .subjects]')" \
    '["kubectl-cmsync-reader",[{"kind":"ServiceAccount","name":"kubectl-cmsync","namespace":"cmsync-system"}]]'
  # the writer ClusterRole is bound nowhere by deploy/ and never cluster-wide: namespace owners
  # grant it with RoleBindings (other tests make some)
  expect_eq "$(k get clusterrolebindings -o json | jq '[.items[] | select(.roleRef.name == "kubectl-cmsync-writer")] | length')" 0
  expect_eq "$(k get -k "$(deploy_dir)" -o json | jq '[.items[] | select(.roleRef.name? == "kubectl-cmsync-writer")] | length')" 0
  local d
  d=$(k get deployment -n "$n" kubectl-cmsync -o json)
  expect_eq "$(jqv "$d" '.spec.replicas')" 2
  expect_eq "$(jqv "$d" '.spec.template.spec.serviceAccountName')" kubectl-cmsync
  local c='.spec.template.spec.containers[0]'
  expect_eq "$(jqv "$d" "$c.image")" "kubectl-cmsync:$version" "image tag follows the project version"
  expect_eq "$(jqv "$d" "$c.args | join(\" \")")" \
    "watch -f /etc/cmsync/rules.yaml --leader-elect --metrics-bind-address=:8080 --record-events --log-format=json"
  expect_eq "$(jqv "$d" "$c.env[] | select(.name == \"POD_NAME\") | .valueFrom.fieldRef.fieldPath")" metadata.name
  expect_eq "$(jqv "$d" "$c.ports[0] | \"\(.name) \(.containerPort)\"")" "metrics 8080"
  expect_eq "$(jqv "$d" "$c.livenessProbe.httpGet | \"\(.path) \(.port)\"")" "/healthz metrics"
  expect_eq "$(jqv "$d" "$c.readinessProbe.httpGet | \"\(.path) \(.port)\"")" "/readyz metrics"
  expect_eq "$(jqv "$d" "$c.volumeMounts[0] | \"\(.name) \(.mountPath) \(.subPath)\"")" "rules /etc/cmsync null"
  expect_eq "$(jqv "$d" '.spec.template.spec.volumes[0].configMap.name')" kubectl-cmsync-rules
  expect_eq "$(jqv "$d" "$c.securityContext | [.runAsNonRoot, .runAsUser, .readOnlyRootFilesystem, .allowPrivilegeEscalation, .capabilities.drop[0], .seccompProfile.type] | map(tostring) | join(\" \")")" \
    "true 65532 true false ALL RuntimeDefault"
  expect_match "$(jqv "$d" "$c.resources.requests.memory")" '^[0-9]+Mi$'
  local s
  s=$(k get service -n "$n" kubectl-cmsync-metrics -o json)
  expect_eq "$(jqv "$s" '.spec.ports[0] | "\(.name) \(.port) \(.targetPort)"')" "metrics 8080 metrics"
  expect_eq "$(k get pdb -n "$n" kubectl-cmsync -o jsonpath='{.spec.minAvailable}')" 1
  # the rules in the ConfigMap are a valid SyncConfig
  k get configmap -n "$n" kubectl-cmsync-rules -o json | jq -r '.data["rules.yaml"]' >"$T/rules.yaml"
  run kubectl cmsync validate -f "$T/rules.yaml"
  expect_rc 0
  expect_in "$(cat "$T/rules.yaml")" "kind: SyncConfig"
  # applying again stores nothing new (kubectl says "configured" for the PodDisruptionBudget
  # whatever happens; the resourceVersions tell)
  local before
  before=$(k get -k "$(deploy_dir)" -o json | jq -c '[.items[] | [.kind, .metadata.name, .metadata.resourceVersion]]')
  run k apply -k "$(deploy_dir)"
  expect_rc 0
  expect_not_in "$out" "created"
  expect_eq "$(k get -k "$(deploy_dir)" -o json | jq -c '[.items[] | [.kind, .metadata.name, .metadata.resourceVersion]]')" "$before"
  expect_eq "$(jqv "$before" 'length')" 16 "objects in deploy/ (3 CRDs and 2 tenant roles among them)"
}

# can I?: "yes"/"no" from kubectl auth can-i as the Deployment's ServiceAccount.
can() { k auth can-i --as="$cmsync_sa" "$@" 2>/dev/null || true; }
expect_can() { expect_eq "$(can "$@")" yes "can-i $*"; }
expect_cannot() { expect_eq "$(can "$@")" no "can-i $*"; }

test_deploy_rbac_is_least_privilege_and_a_rolebinding_grants_one_namespace() {
  apply_deploy_namespace
  k apply -k "$(deploy_dir)" >/dev/null
  local src team other
  src=$(new_ns src); team=$(new_ns team); other=$(new_ns other)
  # reads everywhere
  expect_can list configmaps -A
  expect_can watch configmaps -A
  expect_can get configmaps -n "$src"
  expect_can list namespaces
  expect_can watch namespaces
  # its Lease, in its own namespace only, and no delete
  for verb in get create update; do expect_can "$verb" leases.coordination.k8s.io -n cmsync-system; done
  expect_cannot delete leases.coordination.k8s.io -n cmsync-system
  expect_cannot update leases.coordination.k8s.io -n "$team"
  # no writes anywhere until a namespace grants them; never secrets
  for verb in create update delete; do expect_cannot "$verb" configmaps -n "$team"; done
  expect_cannot create events.events.k8s.io -n "$team"
  expect_cannot create configmaps -n cmsync-system
  expect_cannot get secrets -A
  expect_cannot get secrets -n cmsync-system
  expect_cannot create pods -n cmsync-system
  # the RoleBinding README documents, in one namespace
  run k create rolebinding kubectl-cmsync-writer -n "$team" --clusterrole=kubectl-cmsync-writer \
    --serviceaccount=cmsync-system:kubectl-cmsync
  expect_rc 0
  for verb in create update delete; do expect_can "$verb" configmaps -n "$team"; done
  expect_can create events.events.k8s.io -n "$team"
  expect_can patch events.events.k8s.io -n "$team"
  expect_cannot create events -n "$team"
  expect_cannot get secrets -n "$team"
  expect_cannot create configmaps -n "$other"

  # And for real: a sync as the ServiceAccount (a token from the TokenRequest API) writes the
  # granted namespace and is refused in the other.
  local token
  token=$(k create token kubectl-cmsync -n cmsync-system --duration=10m)
  kubectl config --kubeconfig "$T/sa.kubeconfig" set-cluster c --server="$(cat "$CMSYNC_CLUSTER_DIR/server")" \
    --certificate-authority="$CMSYNC_CLUSTER_DIR/pki/ca.crt" >/dev/null
  kubectl config --kubeconfig "$T/sa.kubeconfig" set-credentials sa --token="$token" >/dev/null
  kubectl config --kubeconfig "$T/sa.kubeconfig" set-context c --cluster=c --user=sa >/dev/null
  kubectl config --kubeconfig "$T/sa.kubeconfig" use-context c >/dev/null
  k -n "$src" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  run kubectl cmsync --kubeconfig "$T/sa.kubeconfig" sync "$src" "$team" "$other" --name app-config -o json
  expect_rc 1
  expect_eq "$(jqv "$out" ".targets[] | select(.namespace == \"$team\") | .result")" created
  expect_in "$(jqv "$out" ".targets[] | select(.namespace == \"$other\") | .error")" "forbidden"
  expect_eq "$(cm_key "$team" app-config config.yaml)" v1
  expect_eq "$(cm_key "$other" app-config config.yaml)" "<absent>"
}
