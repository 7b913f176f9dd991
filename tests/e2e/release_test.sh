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
  # runtime libraries: libc, libstdc++ (with libgcc_s) and libcurl only
  local needed
  needed=$(readelf -d "$T/bin/kubectl-cmsync" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | paste -sd' ')
  expect_eq "$needed" "ld-linux-x86-64.so.2 libc.so.6 libcurl.so.4 libgcc_s.so.1 libstdc++.so.6"
}
