# `watch` as an in-cluster controller (issue 15): leader election, health and metrics, Events,
# token rotation. Each replica is the real binary run as a pod would run it: no kubeconfig,
# KUBERNETES_SERVICE_HOST/PORT set, and (in a private mount namespace) a folder bound over
# /var/run/secrets/kubernetes.io/serviceaccount holding a token from the TokenRequest API for
# the ServiceAccount of deploy/ (bound to a Secret, so deleting the Secret revokes it), ca.crt
# and namespace. deploy/ is applied unchanged: these tests prove its RBAC grants enough. Who
# wrote what is read from the audit log (each replica has its own token, so its own
# credential id).

SA_NS=cmsync-system

incluster_prereqs() {
  [[ $(id -u) -eq 0 ]] || { echo "needs root for unshare -m (private mounts)"; exit 77; }
  mkdir -p /var/run/secrets/kubernetes.io/serviceaccount
  k apply -k "$CMSYNC_SOURCE_DIR/deploy" >/dev/null
}

# grant NS...: the RoleBinding README tells namespace owners to make.
grant() {
  for ns in "$@"; do
    k create rolebinding kubectl-cmsync-writer -n "$ns" --clusterrole=kubectl-cmsync-writer \
      --serviceaccount="$SA_NS:kubectl-cmsync" >/dev/null
  done
}

# sa_dir NAME: a folder like the kubelet's projected ServiceAccount volume, with a token bound
# to Secret NAME. Prints the folder.
sa_dir() {
  local name=$1 dir=$T/sa-$1
  mkdir -p "$dir"
  k -n "$SA_NS" create secret generic "$name" >/dev/null 2>&1 || true
  new_token "$name" >"$dir/token"
  cp "$CMSYNC_CLUSTER_DIR/pki/ca.crt" "$dir/ca.crt"
  printf '%s' "$SA_NS" >"$dir/namespace"
  echo "$dir"
}

new_token() {  # secret
  k -n "$SA_NS" create token kubectl-cmsync --bound-object-kind Secret --bound-object-name "$1" \
    --duration 1h
}

# credential_id TOKEN_FILE: the id the audit log records for requests with this token.
credential_id() {
  local payload
  payload=$(cut -d. -f2 <"$1" | tr '_-' '/+')
  while (( ${#payload} % 4 )); do payload+="="; done
  echo "JTI=$(base64 -d <<<"$payload" | jq -r .jti)"
}

api_port() { sed 's/.*://' "$CMSYNC_CLUSTER_DIR/server"; }

# replica NAME SA_DIR PORT ARGS...: starts `kubectl-cmsync ARGS...` in-cluster style, talking
# to 127.0.0.1:PORT; its log is $T/NAME.log, its pid $T/NAME.pid.
replica() {
  local name=$1 dir=$2 port=$3
  shift 3
  env -i PATH="$PATH" HOME="$T/home-$name" POD_NAME="$name" KUBERNETES_SERVICE_HOST=127.0.0.1 \
    KUBERNETES_SERVICE_PORT="$port" \
    unshare -m --propagation private sh -c \
    'mount --bind "$0" /var/run/secrets/kubernetes.io/serviceaccount && exec kubectl-cmsync "$@"' \
    "$dir" "$@" >"$T/$name.log" 2>&1 &
  echo $! >"$T/$name.pid"
}

pid_of() { cat "$T/$1.pid"; }

stop_all_replicas() {
  for f in "$T"/*.pid; do
    [[ -e $f ]] || continue
    kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  [[ ! -e "$T/proxy.pid" ]] || kill "$(cat "$T/proxy.pid")" 2>/dev/null || true
}

lease_holder() {  # lease
  k -n "$SA_NS" get lease "$1" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s; fails after SECONDS.
wait_for() {
  local limit=$1 start=$SECONDS
  shift
  until "$@"; do
    (( SECONDS - start < limit )) || fail "timed out after $limit s waiting for: $*"
    sleep 0.1
  done
}

holder_is() { [[ $(lease_holder "$1") == "$2"_* ]]; }
key_is() { [[ $(cm_key "$1" "$2" "$3") == "$4" ]]; }

# metrics_port NAME: the port the replica serves /metrics on (it logs it).
metrics_port() {
  wait_for 20 grep -q 'serving /healthz' "$T/$1.log"
  sed -n 's/.*serving \/healthz.*(port \([0-9]*\)).*/\1/p' "$T/$1.log" | head -n 1
}

# ConfigMap writes (2xx) in namespace NS since the audit log had LINES lines, as
# "credential-id verb name" lines in order.
audit_mark() { wc -l <"$CMSYNC_CLUSTER_DIR/audit.log"; }
audit_writes() {  # since ns
  tail -n +"$(( $1 + 1 ))" "$CMSYNC_CLUSTER_DIR/audit.log" |
    jq -r --arg ns "$2" 'select(.stage == "ResponseComplete" and .objectRef.namespace == $ns
      and .responseStatus.code < 300)
      | "\(.user.extra["authentication.kubernetes.io/credential-id"][0]) \(.verb) \(.objectRef.name)"'
}

watch_args() {  # lease src targets...
  local lease=$1 src=$2
  shift 2
  echo watch "$src" "$@" --name app --leader-elect --leader-elect-name "$lease" \
    --metrics-bind-address 127.0.0.1:0 --record-events
}

test_incluster_two_replicas_one_leader_writes_and_kill_9_fails_over() {
  incluster_prereqs
  trap stop_all_replicas EXIT
  local src t1 t2 lease=le-$RANDOM
  src=$(new_ns src); t1=$(new_ns t1); t2=$(new_ns t2)
  grant "$t1" "$t2"
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  local a b port mark
  port=$(api_port)
  a=$(sa_dir "a-$RANDOM"); b=$(sa_dir "b-$RANDOM")
  mark=$(audit_mark)
  # shellcheck disable=SC2046
  replica pod-a "$a" "$port" $(watch_args "$lease" "$src" "$t1" "$t2")
  wait_for 20 holder_is "$lease" pod-a
  # shellcheck disable=SC2046
  replica pod-b "$b" "$port" $(watch_args "$lease" "$src" "$t1" "$t2")
  wait_for 20 key_is "$t2" app k v1
  wait_for 20 grep -q 'standby' "$T/pod-b.log"
  k -n "$src" create configmap app --from-literal=k=v2 --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for 20 key_is "$t1" app k v2
  wait_for 20 key_is "$t2" app k v2
  sleep 3
  expect_eq "$(lease_holder "$lease" | cut -d_ -f1)" pod-a "exactly one holder, the first"
  local ida idb
  ida=$(credential_id "$a/token"); idb=$(credential_id "$b/token")
  out=$(audit_writes "$mark" "$t1"; audit_writes "$mark" "$t2")
  expect_eq "$(awk '{print $1}' <<<"$out" | sort -u)" "$ida" "only the leader's identity writes"
  expect_eq "$(wc -l <<<"$out")" 4 "one create and one update per copy"

  # kill -9 the leader: the standby takes over within lease duration + retry period
  local killed_at took
  kill -9 "$(pid_of pod-a)"
  killed_at=$(date +%s.%N)
  k -n "$src" create configmap app --from-literal=k=v3 --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for 30 key_is "$t2" app k v3
  took=$(echo "$(date +%s.%N) - $killed_at" | bc)
  wait_for 5 key_is "$t1" app k v3
  echo "failover after kill -9: ${took} s to the change written"
  (( $(echo "$took <= 20" | bc) )) || fail "standby wrote after ${took} s, over 20 s"
  wait_for 5 holder_is "$lease" pod-b
  out=$(audit_writes "$mark" "$t1"; audit_writes "$mark" "$t2")
  expect_eq "$(grep -c "^$idb" <<<"$out")" 2 "the new leader wrote both copies once"
  expect_eq "$(grep -c "^$ida" <<<"$out")" 4 "nothing by the dead one after its death"
}
