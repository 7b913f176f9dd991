# Secret values never leave the process (issue 27 item 2). A canary value goes through every
# command at -v 10 with -o text and -o json, a watch with Events, metrics and a state file, a
# rotation, a hand edit and a write refused by a policy that quotes the value; then every byte
# written is searched for the canary, its base64 and its sha256: none may be found. Values are
# checked with kubectl, never with cmsync.

# secret_key NS NAME KEY: the decoded value of a Secret's key via kubectl ("<absent>" if none).
secret_key() {
  local b64
  b64=$(k -n "$1" get secret "$2" -o json 2>/dev/null | jq -r --arg key "$3" '.data[$key] // empty')
  if [[ -z "$b64" ]]; then echo "<absent>"; else base64 -d <<<"$b64"; fi
}
secret_key_is() { [[ "$(secret_key "$1" "$2" "$3")" == "$4" ]]; }

# leaks FILE VALUE...: the lines of FILE holding a VALUE, its base64 or its sha256.
leaks() {
  local file=$1 v
  shift
  for v in "$@"; do
    grep -naF -e "$v" -e "$(printf '%s' "$v" | base64 -w0)" -e "$(sha256 "$v")" "$file" || true
  done
}

# ValidatingAdmissionPolicy denying Secret writes into namespaces labelled cmsync-canary=LABEL
# with a message that quotes the value of key `password` (CEL sees it in base64), as a careless
# policy author would.
deny_quoting_policy() {  # label
  k apply -f - >/dev/null <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: cmsync-canary-$1}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["secrets"]
  validations:
  - expression: "false"
    messageExpression: "'weak password: ' + string(object.data['password'])"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: cmsync-canary-$1}
spec:
  policyName: cmsync-canary-$1
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {cmsync-canary: "$1"}
EOF
}

test_secret_canary_never_leaves_the_process() {
  local canary="canary-$RANDOM$RANDOM-hunter2" label="l$RANDOM$RANDOM"
  local rotated="$canary-rotated" hand="$canary-by-hand"
  local a b c d port w="$T/written" f
  mkdir -p "$w"
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst); d=$(new_ns dst "cmsync-canary=$label")

  # The source as `kubectl apply` leaves it: the value again in last-applied-configuration.
  k -n "$a" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata: {name: app}
type: Opaque
stringData: {password: "$canary", user: admin}
EOF
  # The trap is real: the policy's denial quotes the value to a client that prints it.
  deny_quoting_policy "$label"
  denied_with_value() {
    ! k -n "$d" create secret generic probe --from-literal=password="$canary" 2>"$T/probe.err" &&
      grep -qF "$(printf '%s' "$canary" | base64 -w0)" "$T/probe.err"
  }
  wait_for 20 denied_with_value

  # once NAME ARGS...: one command's stdout and stderr kept under $w as NAME.out / NAME.err.
  once() {
    local name=$1
    shift
    set +e
    kubectl cmsync "$@" >"$w/$name.out" 2>"$w/$name.err"
    rc=$?
    set -e
    out=$(cat "$w/$name.out"); err=$(cat "$w/$name.err")
  }
  for o in text json; do
    once "diff-create-$o" diff --kind secret "$a" "$b" "$c" --name app -v 10 -o "$o"
    expect_rc 1
    once "sync-server-dry-run-$o" sync --kind secret "$a" "$b" --name app -v 10 -o "$o" \
      --dry-run=server
    expect_rc 0
    once "sync-client-dry-run-$o" sync --kind secret "$a" "$b" --name app -v 10 -o "$o" \
      --dry-run=client
    expect_rc 0
  done
  once sync-text sync --kind secret "$a" "$b" --name app -v 10 -o text
  expect_rc 0
  expect_in "$out" "$b/app: created"
  once sync-json sync --kind secret "$a" "$c" --name app -v 10 -o json
  expect_rc 0
  expect_eq "$(jqv "$out" '.targets[0].result')" created
  expect_eq "$(secret_key "$c" app password)" "$canary"
  # The refused write: the policy's message (with the value) must not come through.
  for o in text json; do
    once "sync-denied-$o" sync --kind secret "$a" "$d" --name app -v 10 -o "$o"
    expect_rc 1
  done
  expect_in "$(cat "$w/sync-denied-text.out" "$w/sync-denied-text.err")" "$d/app: error"

  # Rotated at the source, edited by hand in one copy: diff and sync show keys, never values.
  k -n "$a" patch secret app --type merge -p "{\"stringData\":{\"password\":\"$rotated\"}}" >/dev/null
  k -n "$c" patch secret app --type merge -p "{\"stringData\":{\"password\":\"$hand\"}}" >/dev/null
  for o in text json; do
    once "diff-rotated-$o" diff --kind secret "$a" "$b" "$c" --name app -v 10 -o "$o"
    expect_rc 1
  done
  expect_in "$(cat "$w/diff-rotated-text.out")" "*** (before, ${#canary} bytes)"
  expect_in "$(cat "$w/diff-rotated-text.out")" "*** (after, ${#rotated} bytes)"
  once sync-rotated-text sync --kind secret "$a" "$b" "$c" --name app -v 10 -o text
  expect_rc 1  # c is in conflict (hand edit kept)
  wait_for 10 secret_key_is "$b" app password "$rotated"
  expect_eq "$(secret_key "$c" app password)" "$hand"

  # resync of the copies, planned and done, text and JSON.
  for o in text json; do
    once "resync-dry-run-$o" resync --kind secret "$b" "$c" "$d" -v 10 -o "$o" --dry-run=client
    once "resync-$o" resync --kind secret "$b" "$c" "$d" -v 10 -o "$o"
  done

  # watch: Events, metrics, a state file, text and JSON logs; a rotation and a hand edit while
  # it runs, and the refused copy in d.
  for format in text json; do
    : >"$T/watch.out"; : >"$T/watch.err"
    k -n "$b" delete secret app >/dev/null  # the watch's first pass creates it again
    start_watch --kind secret "$a" "$b" "$c" "$d" --name app -v 10 --record-events \
      --metrics-bind-address 127.0.0.1:0 --state-file "$w/state-$format.json" \
      --log-format "$format"
    wait_for 20 grep -q 'serving /healthz' "$T/watch.err"
    port=$(sed -n 's/.*serving \/healthz.*(port \([0-9]*\)).*/\1/p' "$T/watch.err" | head -n 1)
    k -n "$a" patch secret app --type merge \
      -p "{\"stringData\":{\"password\":\"$canary-$format\"}}" >/dev/null
    wait_for 20 secret_key_is "$b" app password "$canary-$format"
    k -n "$b" patch secret app --type merge -p "{\"stringData\":{\"password\":\"$hand\"}}" >/dev/null
    wait_for 20 grep -q "$b/app" "$T/watch.out" "$T/watch.err"
    sleep 2
    curl -fsS "http://127.0.0.1:$port/metrics" >"$w/metrics-$format.txt"
    stop_watch
    cp "$T/watch.out" "$w/watch-$format.out"
    cp "$T/watch.err" "$w/watch-$format.err"
    [[ -s "$w/state-$format.json" ]] || fail "no state file written"
  done
  # The Events cmsync posted name the copies and their keys only.
  wait_for 20 bash -c "kubectl --kubeconfig '$CMSYNC_ADMIN_KUBECONFIG' get events.events.k8s.io -A \
    -o json | jq -e '[.items[] | select(.regarding.kind == \"Secret\")] | length > 0'"
  k get events -A -o yaml >"$w/events-core.yaml"
  k get events.events.k8s.io -A -o yaml >"$w/events.yaml"

  # Every byte written: nothing of any value the Secrets held.
  local found=""
  for f in "$w"/*; do
    local hits
    hits=$(leaks "$f" "$canary" "$rotated" "$hand" "$canary-text" "$canary-json")
    [[ -z "$hits" ]] || found+="$f: $(cut -c1-300 <<<"$hits")"$'\n'
  done
  [[ -z "$found" ]] || { out=$found; err=""; fail "Secret values found in what cmsync wrote"; }
  # The -v 10 logs did log bodies (masked), so the search above covered them.
  expect_in "$(cat "$w/sync-text.err")" 'Request Body'
  expect_in "$(cat "$w/sync-text.err")" '"password":"***"'
}
