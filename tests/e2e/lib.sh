# Helpers for the e2e suite. Every check goes through kubectl (an independent client) or
# through what the cmsync binary printed and returned; nothing here uses cmsync's code.

# kubectl as the cluster admin.
k() { kubectl --kubeconfig "$CMSYNC_ADMIN_KUBECONFIG" "$@"; }

# A fresh namespace name, unique per test run; created with labels given as k=v arguments.
new_ns() {
  local name="$1-$RANDOM$RANDOM"
  shift
  k create namespace "$name" >/dev/null
  [[ $# -eq 0 ]] || k label namespace "$name" "$@" >/dev/null
  echo "$name"
}

# run CMD...: runs it, keeping stdout in $out, stderr in $err and the exit code in $rc.
run() {
  set +e
  "$@" >"$T/out" 2>"$T/err"
  rc=$?
  set -e
  out=$(cat "$T/out")
  err=$(cat "$T/err")
}

fail() {
  echo "FAILED: $*" >&2
  echo "--- last command's exit code: ${rc:-?}" >&2
  echo "--- stdout:" >&2; printf '%s\n' "${out:-}" | head -n 60 | cut -c1-300 >&2
  echo "--- stderr:" >&2; printf '%s\n' "${err:-}" | head -n 60 | cut -c1-300 >&2
  exit 1
}

expect_rc() { [[ "$rc" == "$1" ]] || fail "expected exit code $1, got $rc"; }
expect_eq() { [[ "$1" == "$2" ]] || fail "expected '$2', got '$1'${3:+ ($3)}"; }
expect_in() { grep -qF -- "$2" <<<"$1" || fail "expected to find '$2'"; }
expect_not_in() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect '$2'"; }
expect_match() { grep -qE -- "$2" <<<"$1" || fail "expected a match for /$2/"; }

# jqv JSON FILTER: jq on a JSON text, raw output.
jqv() { jq -r "$2" <<<"$1"; }

# A value of a ConfigMap key via kubectl; "<absent>" when the key or the object is missing.
cm_key() {  # ns name key
  k -n "$1" get configmap "$2" -o json 2>/dev/null |
    jq -r --arg key "$3" 'if .data[$key] != null then .data[$key] else "<absent>" end' ||
    echo "<absent>"
}

sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# A target copy in step with SOURCE_NS/NAME holding the given key=value pairs, made with
# kubectl alone: the ownership label and annotations written as SPEC.md describes them.
make_copy() {  # target_ns source_ns name key=value...
  local ns=$1 src=$2 name=$3
  shift 3
  local hashes="{}" args=()
  for kv in "$@"; do
    local key=${kv%%=*} value=${kv#*=}
    hashes=$(jq -c --arg k "$key" --arg v "$(sha256 "$value")" '. + {($k): $v}' <<<"$hashes")
    args+=(--from-literal="$kv")
  done
  k -n "$ns" create configmap "$name" "${args[@]}" >/dev/null
  k -n "$ns" label configmap "$name" cmsync.io/managed=true >/dev/null
  k -n "$ns" annotate configmap "$name" "cmsync.io/sync-from=$src/$name" \
    "cmsync.io/last-synced=$hashes" >/dev/null
}

# Request lines in cmsync's -v 6 log.
request_lines() { grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (GET|POST|PUT|DELETE|PATCH) https://' <<<"$1" || true; }

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails the test on timeout.
wait_for() {
  local limit=$1
  shift
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || fail "timed out after ${limit}s waiting for: $*"
    sleep 0.1
  done
}

# drift_events NS NAME: the Drift Events regarding ConfigMap NAME in NS, as a JSON array.
drift_events() {
  k -n "$1" get events.events.k8s.io -o json |
    jq -c --arg name "$2" '[.items[] | select(.regarding.name == $name and .reason == "Drift")]'
}

# key_is NS NAME KEY VALUE: true when the ConfigMap key holds VALUE.
key_is() { [[ "$(cm_key "$1" "$2" "$3")" == "$4" ]]; }

# with_fault_hooks CMD...: runs CMD with the e2e suite's fault build first on PATH as
# kubectl-cmsync. build/tests/e2e/kubectl-cmsync-faults is the shipped binary linked with
# cmd/kubectl-cmsync/test_hooks.cpp instead of no_test_hooks.cpp: it runs the shell command in
# CMSYNC_TEST_BEFORE_WRITE before each write of sync and watch (CMSYNC_TARGET=NS/NAME set) and
# the one in CMSYNC_TEST_AFTER_PAGE after each page of resync's copy list. It is built only with
# -Dtests=true and never installed or released: the shipped binary runs no command named by its
# environment (issue 26; release_test.sh checks it).
with_fault_hooks() {
  local faults=$CMSYNC_BUILD_DIR/tests/e2e/kubectl-cmsync-faults
  [[ -x "$faults" ]] || fail "no $faults: the e2e suite needs a build with -Dtests=true"
  mkdir -p "$T/fault-build"
  ln -sf "$faults" "$T/fault-build/kubectl-cmsync"
  PATH="$T/fault-build:$PATH" "$@"
}

# start_watch ARGS...: runs `kubectl cmsync watch ARGS` in the background (logs in $T).
start_watch() {
  kubectl cmsync watch "$@" >>"$T/watch.out" 2>>"$T/watch.err" &
  echo $! >"$T/watch.pid"
  echo $! >>"$T/bg.pids"
}

# stop_watch [SIGNAL]: stops it and waits; fails unless it exits 0 (for INT/TERM).
stop_watch() {
  local pid
  pid=$(cat "$T/watch.pid")
  kill -"${1:-INT}" "$pid" 2>/dev/null || true
  local code=0
  wait "$pid" || code=$?
  [[ "${1:-INT}" == KILL || $code -eq 0 ]] || { out=$(cat "$T/watch.out"); err=$(cat "$T/watch.err"); rc=$code; fail "watch exited $code"; }
}

# watch_log: what the watcher printed so far (actions on stdout, info and -v logs on stderr).
watch_log() { cat "$T/watch.out" "$T/watch.err"; }


# own_cluster [UP_ARGS...]: a control plane of this test's own, with the watch cache off (so an
# old resourceVersion is a 410), torn down when the test ends; UP_ARGS go to tests/cluster/up
# (--controllers LIST). Sets `dir` (its CMSYNC_CLUSTER_DIR) and `admin` (its admin kubeconfig):
# declare them local first. kc runs kubectl as its admin.
own_cluster() {
  "$CMSYNC_SOURCE_DIR/tests/cluster/up" --no-watch-cache "$@" --env-file "$T/cluster.env" >/dev/null 2>"$T/up.err"
  dir=$(sed -n 's/^export CMSYNC_CLUSTER_DIR=//p' "$T/cluster.env")
  admin=$dir/admin.kubeconfig
  echo "$dir" >"$T/second-cluster"
  trap '"$CMSYNC_SOURCE_DIR/tests/cluster/down" "$(cat "$T/second-cluster")" 2>/dev/null; kill_background' EXIT
  kc() { kubectl --kubeconfig "$admin" "$@"; }
}

# member_clusters: the suite's cluster as the hub plus two control planes of this test's own,
# member-a and member-b (each its own etcd, kube-apiserver, CA and users; started together by
# tests/cluster/up, each on free ports in its own temp dir), stopped when the test ends. Writes
# ONE kubeconfig, $T/clusters.kubeconfig, made with `kubectl config` as people have theirs:
# contexts hub, member-a and member-b, each with its own cluster entry (server and CA: a file
# for the hub, embedded data for the members) and its own admin user (client certificate), plus
# member-b-restricted (member-b's user that no Role is bound to). current-context: hub.
# Sets `member_a` and `member_b` (their cluster dirs) and `clusters` (the kubeconfig): declare
# them local first. kh, ka and kb run kubectl as the admin of hub, member-a and member-b.
member_clusters() {
  local up=$CMSYNC_SOURCE_DIR/tests/cluster/up m pids=()
  for m in a b; do
    "$up" --env-file "$T/member-$m.env" >/dev/null 2>"$T/up-$m.err" &
    pids+=($!)
  done
  for m in 0 1; do wait "${pids[$m]}" || true; done
  member_a=$(sed -n 's/^export CMSYNC_CLUSTER_DIR=//p' "$T/member-a.env" 2>/dev/null || true)
  member_b=$(sed -n 's/^export CMSYNC_CLUSTER_DIR=//p' "$T/member-b.env" 2>/dev/null || true)
  printf '%s\n' "$member_a" "$member_b" >"$T/member-clusters"
  trap 'while read -r d; do [[ -z "$d" ]] || "$CMSYNC_SOURCE_DIR/tests/cluster/down" "$d" 2>/dev/null; done <"$T/member-clusters"; kill_background' EXIT
  [[ -n "$member_a" && -n "$member_b" ]] || { cat "$T"/up-*.err >&2; fail "a member control plane did not start"; }
  clusters=$T/clusters.kubeconfig
  local hub_dir=$CMSYNC_CLUSTER_DIR kc=(kubectl config --kubeconfig "$clusters")
  "${kc[@]}" set-cluster hub --server "$(cat "$hub_dir/server")" \
    --certificate-authority "$hub_dir/pki/ca.crt" >/dev/null
  "${kc[@]}" set-credentials hub-admin --client-certificate "$hub_dir/pki/admin.crt" \
    --client-key "$hub_dir/pki/admin.key" >/dev/null
  "${kc[@]}" set-context hub --cluster hub --user hub-admin >/dev/null
  local name dir
  for name in member-a member-b; do
    dir=$member_a; [[ $name == member-a ]] || dir=$member_b
    "${kc[@]}" set-cluster "$name" --server "$(cat "$dir/server")" \
      --certificate-authority "$dir/pki/ca.crt" --embed-certs >/dev/null
    "${kc[@]}" set-credentials "$name-admin" --client-certificate "$dir/pki/admin.crt" \
      --client-key "$dir/pki/admin.key" --embed-certs >/dev/null
    "${kc[@]}" set-context "$name" --cluster "$name" --user "$name-admin" >/dev/null
  done
  "${kc[@]}" set-credentials member-b-restricted --client-certificate "$member_b/pki/restricted.crt" \
    --client-key "$member_b/pki/restricted.key" --embed-certs >/dev/null
  "${kc[@]}" set-context member-b-restricted --cluster member-b --user member-b-restricted >/dev/null
  "${kc[@]}" use-context hub >/dev/null
  chmod 600 "$clusters"
  kh() { kubectl --kubeconfig "$clusters" --context hub "$@"; }
  ka() { kubectl --kubeconfig "$clusters" --context member-a "$@"; }
  kb() { kubectl --kubeconfig "$clusters" --context member-b "$@"; }
}

# ka/kb/kh: a ConfigMap key's value in that cluster, or <absent>.
member_key() {  # ka|kb|kh ns name key
  "$1" -n "$2" get configmap "$3" -o json 2>/dev/null |
    jq -r --arg key "$4" 'if .data[$key] != null then .data[$key] else "<absent>" end' ||
    echo "<absent>"
}
member_annotation() {  # ka|kb ns name annotation
  "$1" -n "$2" get configmap "$3" -o json | jq -r --arg a "$4" '.metadata.annotations[$a] // "<absent>"'
}

# A TCP proxy (socat) in front of the apiserver; cut_proxy drops every connection through it.
start_proxy() {  # port target_port
  socat "TCP-LISTEN:$1,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$2" &
  echo $! >"$T/proxy.pid"
  echo $! >>"$T/bg.pids"
  wait_for 5 bash -c "echo >/dev/tcp/127.0.0.1/$1"
}
cut_proxy() {
  local pid
  pid=$(cat "$T/proxy.pid")
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# A kubeconfig like the admin's that talks to 127.0.0.1:PORT.
kubeconfig_for_port() {  # port file
  sed -E "s#server: https://127.0.0.1:[0-9]+#server: https://127.0.0.1:$1#" "$CMSYNC_ADMIN_KUBECONFIG" >"$2"
}

# Whatever a test left running in the background is stopped when it ends, pass or fail.
kill_background() {
  [[ -f "$T/bg.pids" ]] || return 0
  while read -r pid; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done <"$T/bg.pids"
}
trap kill_background EXIT
