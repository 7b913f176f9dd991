# The release archive (issue 7): unpacked into a temporary PATH, it runs as a kubectl plugin.

test_release_archive_runs_from_a_temporary_path() {
  if [[ -z "${CMSYNC_RELEASE_ARCHIVE:-}" ]]; then
    echo "skipped: no release archive (scripts/test builds one and sets CMSYNC_RELEASE_ARCHIVE)"
    exit 77
  fi
  mkdir -p "$T/bin"
  tar -xzf "$CMSYNC_RELEASE_ARCHIVE" -C "$T/bin"
  local path="$T/bin:$CMSYNC_CLUSTER_BIN:/usr/bin:/bin"
  run env PATH="$path" kubectl cmsync version
  expect_rc 0
  expect_match "$out" '^kubectl-cmsync [0-9]+\.[0-9]+\.[0-9]+$'
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  run env PATH="$path" kubectl cmsync diff "$a" "$b" --name app-config
  expect_rc 1
  expect_in "$out" "$b/app-config: create (add k)"
  # linked: libc and libstdc++ (with libgcc_s) only; libcurl is loaded when a cluster is needed
  local needed
  needed=$(readelf -d "$T/bin/kubectl-cmsync" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | paste -sd' ')
  expect_eq "$needed" "ld-linux-x86-64.so.2 libc.so.6 libgcc_s.so.1 libstdc++.so.6"
}

test_without_libcurl_version_runs_and_cluster_commands_fail_in_one_line() {
  # libcurl hidden in a private mount namespace (needs root, as CI runs).
  local cached lib
  cached=$(ldconfig -p | awk '/libcurl\.so\.4 .*x86-64/ {print $NF; exit}')
  lib=$(readlink -f "$cached")
  if [[ ! -f "$lib" ]] || ! unshare -m true 2>/dev/null; then
    echo "skipped: needs libcurl.so.4 on the machine and unshare -m (root)"
    exit 77
  fi
  local a
  a=$(new_ns src)
  k -n "$a" create configmap app-config --from-literal=k=v >/dev/null
  cat >"$T/hidden" <<HIDDEN
mount --bind /dev/null "$lib" || exit 99
kubectl-cmsync version
echo "rc=\$?"
kubectl-cmsync diff "$a" "$a-copy" --name app-config 2>&1
echo "rc=\$?"
HIDDEN
  run unshare -m bash "$T/hidden"
  expect_rc 0
  expect_eq "$out" "$(printf 'kubectl-cmsync %s\nrc=0\n%s\nrc=2' "$(kubectl-cmsync version | awk '{print $2}')" \
    "error: cannot load libcurl.so.4 (install libcurl4): $cached: file too short")"
}
