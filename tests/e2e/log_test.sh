# One logger (issue 26 item 5): with `--log-format json` every line `watch` writes, on stdout
# and stderr, at any -v, is one JSON object, so a log pipeline that parses JSON never breaks.

# json_lines_only FILE...: fails unless every line of every FILE is one JSON object with an
# RFC 3339 UTC "time" with milliseconds, a "level" and a string "msg"; prints the count.
json_lines_only() {
  python3 - "$@" <<'PY'
import json, re, sys
time_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
lines, not_json, bad = 0, [], []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            lines += 1
            where = f"{path}:{n}: {raw[:160]!r}"
            try:
                if not raw.endswith(b"\n"):
                    raise ValueError("no newline at the end")
                e = json.loads(raw.decode("utf-8"))
                if not isinstance(e, dict):
                    raise ValueError("not an object")
            except ValueError as x:  # UnicodeDecodeError is one
                not_json.append(f"{where} ({x})")
                continue
            if not time_re.match(str(e.get("time"))):
                bad.append(f"{where} (time is not RFC 3339 UTC with milliseconds)")
            elif e.get("level") not in ("info", "warning", "error") or not isinstance(e.get("msg"), str):
                bad.append(f"{where} (no level or msg)")
for what, found in (("are not one JSON object", not_json), ("lack time, level or msg", bad)):
    if found:
        print(f"{len(found)} of {lines} lines {what}; first: {found[0]}", file=sys.stderr)
if not_json or bad:
    sys.exit(1)
print(lines)
PY
}

# watch_json_run V: a watch with --log-format json at -v V (leader election, metrics and Events
# on) through a create, a conflict (a copy owned by another source, reported as drift), a
# source change and a hand edit (drift), stopped with SIGTERM; every line must be JSON.
watch_json_run() {
  local v=$1 a b c port
  a=$(new_ns src); b=$(new_ns dst); c=$(new_ns dst)
  # A value with control characters: JSON escapes them, in the request bodies logged at -v 8 too.
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 \
    --from-literal=odd=$'bell\a esc\e[31m "quoted" \\ tab\t' >/dev/null
  make_copy "$c" "$a-other" app-config config.yaml=theirs  # another source's copy: a conflict
  port=$(free_port)
  : >"$T/watch.out"; : >"$T/watch.err"
  start_watch "$a" "$b" "$c" --name app-config --log-format json -v "$v" \
    --leader-elect --leader-elect-namespace "$a" --leader-elect-name "log-$v" \
    --metrics-bind-address "127.0.0.1:$port" --record-events
  wait_for 30 key_is "$b" app-config config.yaml v1
  wait_for 10 grep -qF "\"$c/app-config\",\"action\":\"drift\"" "$T/watch.out"
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"config.yaml":"v2"}}' >/dev/null
  wait_for 20 key_is "$b" app-config config.yaml v2
  k -n "$b" patch configmap app-config --type merge -p '{"data":{"config.yaml":"by hand"}}' >/dev/null
  wait_for 10 grep -qF "\"$b/app-config\",\"action\":\"drift\"" "$T/watch.out"
  curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null
  stop_watch TERM
  out=$(cat "$T/watch.out"); err=$(cat "$T/watch.err"); rc=0
  local lines
  lines=$(json_lines_only "$T/watch.out" "$T/watch.err") || fail "-v $v: not every line is a JSON log line"
  echo "-v $v: $lines lines, every one JSON"
  expect_eq "$(jq -r 'select(.target != null) | .target + " " + .action' "$T/watch.out" | sort -u | paste -sd,)" \
    "$(printf '%s\n' "$b/app-config created" "$b/app-config drift" "$b/app-config updated" "$c/app-config drift" | sort | paste -sd,)" \
    "-v $v: actions"
  expect_in "$(jq -r .msg "$T/watch.err")" "stopped"
  expect_in "$(jq -r .msg "$T/watch.err")" "leader election: Lease $a/log-$v"
  if (( v >= 6 )); then
    # A leader's write carries what is left of its term (timeout=, the server's deadline).
    expect_match "$(jq -r .msg "$T/watch.err")" "^PUT https://[^ ]+/namespaces/$b/configmaps/app-config\\?fieldManager=kubectl-cmsync&timeout=[0-9]+ms 200 in [0-9]+ milliseconds$"
  else
    expect_not_in "$(jq -r .msg "$T/watch.err")" "https://"
  fi
  if (( v >= 8 )); then
    expect_in "$(jq -r .msg "$T/watch.err")" "Response Body: "
    # The control characters arrive escaped by the server's JSON and again by ours: never raw.
    expect_not_in "$err" $'\e'
  fi
}

test_log_watch_json_every_line_is_json_at_v0() { watch_json_run 0; }
test_log_watch_json_every_line_is_json_at_v6() { watch_json_run 6; }
test_log_watch_json_every_line_is_json_at_v8() { watch_json_run 8; }

test_log_watch_json_final_error_is_json() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  run kubectl cmsync watch "$a" "$b" --name app-config --log-format json --resync-period soon -v 6
  expect_rc 2
  json_lines_only "$T/out" "$T/err" >/dev/null || fail "a usage error line is not JSON"
  expect_eq "$(jq -r '.level + " " + .msg' "$T/err")" \
    "error invalid --resync-period \"soon\" (see 'kubectl cmsync watch --help')"
  run kubectl cmsync watch "$a" "$b" --name app-config --log-format json --kubeconfig "$T/none"
  expect_rc 2
  json_lines_only "$T/out" "$T/err" >/dev/null || fail "an error line is not JSON"
  expect_eq "$(jq -r '.level + " " + .msg' "$T/err")" \
    "error kubeconfig $T/none (--kubeconfig) does not exist"
}

test_log_text_lines_share_one_timestamp_format() {
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=v1 >/dev/null
  : >"$T/watch.out"; : >"$T/watch.err"
  start_watch "$a" "$b" --name app-config -v 6
  wait_for 20 key_is "$b" app-config config.yaml v1
  wait_for 10 grep -q "$b/app-config created" "$T/watch.out"
  stop_watch TERM
  out=$(cat "$T/watch.out"); err=$(cat "$T/watch.err")
  local stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '
  expect_eq "$(grep -cvE "$stamp" "$T/watch.out" "$T/watch.err" | awk -F: '{s += $2} END {print s}')" 0 \
    "lines without the one timestamp format"
  expect_match "$out" "${stamp}$b/app-config created \\(add config.yaml\\)$"
  expect_match "$err" "${stamp}POST https://[^ ]+/namespaces/$b/configmaps\\?fieldManager=kubectl-cmsync 201 in [0-9]+ milliseconds$"
  expect_match "$err" "${stamp}stopped$"
  (( $(request_lines "$err" | wc -l) >= 3 )) || fail "request_lines (lib.sh) finds the request log"
}
