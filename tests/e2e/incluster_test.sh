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
      and .objectRef.resource == "configmaps" and .responseStatus.code < 300
      and (.verb == "create" or .verb == "update" or .verb == "patch" or .verb == "delete"))
      | "\(.user.extra["authentication.kubernetes.io/credential-id"][0]) \(.verb) \(.objectRef.name)"'
}

watch_args() {  # lease src targets...
  local lease=$1 src=$2
  shift 2
  echo watch "$src" "$@" --name app --leader-elect --leader-elect-name "$lease" \
    --metrics-bind-address 127.0.0.1:0 --record-events
}

# start_proxy MODE: tools/tcp_proxy.py in front of the apiserver, in MODE (pass, cut, stall:
# written to $T/mode to switch); its port is in $T/proxy.port.
start_proxy() {
  echo "$1" >"$T/mode"
  python3 "$CMSYNC_SOURCE_DIR/tests/e2e/tools/tcp_proxy.py" "$T/proxy.port" 127.0.0.1 "$(api_port)" "$T/mode" &
  echo $! >"$T/proxy.pid"
  wait_for 10 test -s "$T/proxy.port"
}

# start_pair LEASE PORT_A SRC TARGETS...: replica pod-a (to 127.0.0.1:PORT_A) takes the Lease,
# then pod-b (to the apiserver) stands by; their ServiceAccount folders are $pair_a, $pair_b.
start_pair() {
  local lease=$1 port_a=$2
  shift 2
  pair_a=$(sa_dir "a-$RANDOM"); pair_b=$(sa_dir "b-$RANDOM")
  # shellcheck disable=SC2046
  replica pod-a "$pair_a" "$port_a" $(watch_args "$lease" "$@")
  wait_for 20 holder_is "$lease" pod-a
  # shellcheck disable=SC2046
  replica pod-b "$pair_b" "$(api_port)" $(watch_args "$lease" "$@")
  wait_for 20 grep -q 'standby' "$T/pod-b.log"
}

test_incluster_two_replicas_one_leader_writes_and_kill_9_fails_over() {
  incluster_prereqs
  trap stop_all_replicas EXIT
  local src t1 t2 lease=le-$RANDOM
  src=$(new_ns src); t1=$(new_ns t1); t2=$(new_ns t2)
  grant "$t1" "$t2"
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  local mark
  mark=$(audit_mark)
  start_pair "$lease" "$(api_port)" "$src" "$t1" "$t2"
  wait_for 20 key_is "$t2" app k v1
  k -n "$src" create configmap app --from-literal=k=v2 --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for 20 key_is "$t1" app k v2
  wait_for 20 key_is "$t2" app k v2
  sleep 3
  expect_eq "$(lease_holder "$lease" | cut -d_ -f1)" pod-a "exactly one holder, the first"
  local ida idb
  ida=$(credential_id "$pair_a/token"); idb=$(credential_id "$pair_b/token")
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

test_incluster_sigterm_hands_over_at_once() {
  incluster_prereqs
  trap stop_all_replicas EXIT
  local src t1 lease=le-$RANDOM
  src=$(new_ns src); t1=$(new_ns t1)
  grant "$t1"
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  start_pair "$lease" "$(api_port)" "$src" "$t1"
  wait_for 20 key_is "$t1" app k v1
  local start took
  start=$(date +%s.%N)
  kill -TERM "$(pid_of pod-a)"
  wait_for 10 holder_is "$lease" pod-b
  took=$(echo "$(date +%s.%N) - $start" | bc)
  echo "handover after SIGTERM: ${took} s"
  (( $(echo "$took <= 3" | bc) )) || fail "handover took ${took} s, over 3 s"
  set +e; wait "$(pid_of pod-a)"; rc=$?; set -e
  expect_rc 0
  expect_in "$(cat "$T/pod-a.log")" "released the Lease"
  k -n "$src" create configmap app --from-literal=k=v2 --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for 10 key_is "$t1" app k v2
}

test_incluster_partitioned_leader_stops_writing_before_its_lease_expires() {
  incluster_prereqs
  trap stop_all_replicas EXIT
  local src t1 lease=le-$RANDOM
  src=$(new_ns src); t1=$(new_ns t1)
  grant "$t1"
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  local mark
  start_proxy pass
  mark=$(audit_mark)
  start_pair "$lease" "$(cat "$T/proxy.port")" "$src" "$t1"
  wait_for 20 key_is "$t1" app k v1
  local cut_at exited_at
  echo cut >"$T/mode"
  cut_at=$SECONDS
  k -n "$src" create configmap app --from-literal=k=v2 --dry-run=client -o yaml | k apply -f - >/dev/null
  set +e; wait "$(pid_of pod-a)"; rc=$?; set -e
  exited_at=$SECONDS
  [[ $rc -ne 0 ]] || fail "a leader that cannot renew exits non-zero (pod restart)"
  expect_in "$(cat "$T/pod-a.log")" "lost the leader Lease"
  (( exited_at - cut_at <= 14 )) || fail "the cut-off leader ran on for $((exited_at - cut_at)) s"
  wait_for 30 key_is "$t1" app k v2
  wait_for 5 holder_is "$lease" pod-b
  # In the audit log, writes by the two identities never interleave: all of a's, then b's.
  local ida idb runs
  ida=$(credential_id "$pair_a/token"); idb=$(credential_id "$pair_b/token")
  out=$(audit_writes "$mark" "$t1")
  runs=$(awk '{print $1}' <<<"$out" | uniq | tr '\n' ' ')
  expect_eq "$runs" "$ida $idb " "writes by a, then by b, never overlapping"
}

test_incluster_token_rotation_needs_no_restart() {
  incluster_prereqs
  trap stop_all_replicas EXIT
  local src t1 lease=le-$RANDOM secret=rot-$RANDOM
  src=$(new_ns src); t1=$(new_ns t1)
  grant "$t1"
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  local a mark
  a=$(sa_dir "$secret")
  # shellcheck disable=SC2046
  replica pod-a "$a" "$(api_port)" $(watch_args "$lease" "$src" "$t1")
  wait_for 20 key_is "$t1" app k v1
  # The kubelet's way: a new token file swapped in; then the old token is revoked.
  k -n "$SA_NS" create secret generic "$secret-2" >/dev/null
  cp "$a/token" "$T/old-token"
  new_token "$secret-2" >"$a/token.new"
  mv "$a/token.new" "$a/token"
  k -n "$SA_NS" delete secret "$secret" >/dev/null
  # the old token is refused once the apiserver's token cache (10 s) forgets it (kubectl's view)
  refused() {
    ! KUBECONFIG=/dev/null kubectl --server "$(cat "$CMSYNC_CLUSTER_DIR/server")" \
      --certificate-authority "$CMSYNC_CLUSTER_DIR/pki/ca.crt" --token "$(cat "$T/old-token")" \
      get configmaps -n "$t1" >/dev/null 2>&1
  }
  wait_for 30 refused
  mark=$(audit_mark)
  k -n "$src" create configmap app --from-literal=k=v2 --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for 20 key_is "$t1" app k v2
  kill -0 "$(pid_of pod-a)" || fail "the watcher exited"
  expect_eq "$(audit_writes "$mark" "$t1" | awk '{print $1}' | sort -u)" "$(credential_id "$a/token")" \
    "written with the new token"
  sleep 3  # Lease renewals go on too
  wait_for 5 holder_is "$lease" pod-a
  kill -0 "$(pid_of pod-a)" || fail "the watcher exited"
}

test_incluster_metrics_pass_promtool_and_match_the_audit_log_and_readyz_waits_for_lists() {
  incluster_prereqs
  command -v promtool >/dev/null || { echo "promtool not installed (Debian package prometheus)"; exit 77; }
  trap stop_all_replicas EXIT
  local src t1 t2 lease=le-$RANDOM
  src=$(new_ns src); t1=$(new_ns t1); t2=$(new_ns t2)
  grant "$t1" "$t2"
  k -n "$src" create configmap app --from-literal=k=v1 >/dev/null
  start_proxy stall
  local a mport mark
  a=$(sa_dir "a-$RANDOM")
  mark=$(audit_mark)
  # shellcheck disable=SC2046
  replica pod-a "$a" "$(cat "$T/proxy.port")" $(watch_args "$lease" "$src" "$t1" "$t2")
  mport=$(metrics_port pod-a)
  # the server does not answer yet: alive, but not ready
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz")" 503
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/healthz")" 200
  sleep 2
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz")" 503
  echo pass >"$T/mode"
  # ready once every stream has listed (the copies may be written a moment before that)
  readyz_ok() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz") == 200 ]]; }
  wait_for 30 readyz_ok
  wait_for 30 key_is "$t2" app k v1
  k -n "$src" create configmap app --from-literal=k=v2 --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for 20 key_is "$t1" app k v2
  wait_for 20 key_is "$t2" app k v2
  sleep 1
  curl -fsS "http://127.0.0.1:$mport/metrics" >"$T/metrics"
  run promtool check metrics <"$T/metrics"
  expect_rc 0
  local m
  m=$(cat "$T/metrics")
  metric() { awk -v n="$1" '$1 == n {print $2}' <<<"$m"; }
  expect_eq "$(metric 'cmsync_writes_total{verb="create",result="success"}')" 2
  expect_eq "$(metric 'cmsync_writes_total{verb="update",result="success"}')" 2
  local audited
  audited=$( (audit_writes "$mark" "$t1"; audit_writes "$mark" "$t2") | wc -l)
  expect_eq "$audited" 4 "the audit log's writes equal the counters' 2 + 2"
  expect_eq "$(metric 'cmsync_copies_managed')" 2
  expect_eq "$(metric "cmsync_leader_is_leader{lease=\"$SA_NS/$lease\"}")" 1
  expect_match "$m" '^cmsync_build_info\{version="[^"]+"\} 1$'
  expect_match "$m" '^cmsync_api_request_duration_seconds_bucket\{verb="PUT",code="200",le="\+Inf"\} [1-9]'
  expect_match "$m" "^cmsync_last_sync_timestamp_seconds\\{rule=\"$src\"\\} [0-9.e+]+$"
}

test_incluster_hand_edited_copy_gets_one_event_whose_count_rises() {
  incluster_prereqs
  trap stop_all_replicas EXIT
  local src t1 lease=le-$RANDOM
  src=$(new_ns src); t1=$(new_ns t1)
  grant "$t1"
  k -n "$src" create configmap app --from-literal=k=v1 --from-literal=other=o >/dev/null
  local a
  a=$(sa_dir "a-$RANDOM")
  # shellcheck disable=SC2046
  replica pod-a "$a" "$(api_port)" $(watch_args "$lease" "$src" "$t1")
  wait_for 20 key_is "$t1" app k v1
  k -n "$t1" patch configmap app --type merge -p '{"data":{"k":"by hand"}}' >/dev/null
  has_events() { [[ $(drift_events "$t1" app | jq length) -ge 1 ]]; }
  wait_for 20 has_events
  local e
  e=$(drift_events "$t1" app)
  expect_eq "$(jqv "$e" 'length')" 1
  expect_eq "$(jqv "$e" '.[0].reportingController')" cmsync.io/kubectl-cmsync
  expect_eq "$(jqv "$e" '.[0].type')" Warning
  expect_eq "$(jqv "$e" '.[0].regarding.uid')" "$(k -n "$t1" get configmap app -o jsonpath='{.metadata.uid}')"
  expect_in "$(k -n "$t1" describe configmap app)" "Drift"
  expect_eq "$(cm_key "$t1" app k)" "by hand" "the hand edit is kept"
  # the same drift again (another hand edit): the one Event counts it
  k -n "$t1" patch configmap app --type merge -p '{"data":{"k":"by hand, again"}}' >/dev/null
  counted() { [[ $(drift_events "$t1" app | jq '.[0].series.count // 1') -ge 2 ]]; }
  wait_for 30 counted
  expect_eq "$(drift_events "$t1" app | jq length)" 1 "no second Event for the same condition"
}
