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
request_lines() { grep -E '^I[0-9]{4} .* (GET|POST|PUT|DELETE|PATCH) https://' <<<"$1" || true; }
