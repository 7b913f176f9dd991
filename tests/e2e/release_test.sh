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
  needed=$(needed_libraries "$T/bin/kubectl-cmsync")
  expect_no_tls_or_compression "$needed" "the release binary's NEEDED"
  expect_eq "$needed" "ld-linux-x86-64.so.2 libc.so.6 libgcc_s.so.1 libstdc++.so.6"
  # ...and the health server is in it (issue 26: no build without it any more)
  env PATH="$path" kubectl-cmsync watch "$a" "$b" --name app-config \
    --metrics-bind-address 127.0.0.1:0 >"$T/watch.log" 2>&1 &
  local pid=$! port
  echo "$pid" >>"$T/bg.pids"
  wait_for 20 grep -q 'serving /healthz' "$T/watch.log"
  port=$(sed -n 's/.*serving \/healthz.*(port \([0-9]*\)).*/\1/p' "$T/watch.log" | head -n 1)
  expect_eq "$(curl -fsS "http://127.0.0.1:$port/healthz")" ok
  kill -TERM "$pid"
  wait "$pid" || true
}

# needed_libraries BINARY: its NEEDED entries (readelf -d), sorted, on one line.
needed_libraries() {
  readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | paste -sd' '
}

# Issue 26: libssl, libcrypto, zlib and brotli (cpp-httplib's) cost every start ~2x.
expect_no_tls_or_compression() {  # text what
  ! grep -qE 'lib(ssl|crypto|z|brotli[a-z]*)\.so' <<<"$1" || fail "$2 has TLS or compression libraries: $1"
}

test_commands_that_serve_no_http_load_no_tls_or_compression_library() {
  local binary=$CMSYNC_BUILD_DIR/cmd/kubectl-cmsync/kubectl-cmsync
  expect_no_tls_or_compression "$(needed_libraries "$binary")" "NEEDED of $binary"
  # What the loader actually maps at start, dependencies of dependencies included.
  for args in "version" "completion bash"; do
    # shellcheck disable=SC2086
    run env LD_DEBUG=files "$binary" $args
    expect_rc 0
    expect_no_tls_or_compression "$(grep 'file=' <<<"$err")" "kubectl-cmsync $args"
    expect_in "$err" "file=libstdc++.so.6"  # LD_DEBUG did report
  done
}

# expect_no_shell_hooks BINARY: nothing in BINARY can run a command named by its environment
# (issue 26): it imports neither system nor popen, and holds none of the CMSYNC_TEST_ names the
# e2e suite's fault build reads. Exec credential plugins (a kubeconfig's `exec:` user, started
# with execvpe by lib/kube/exec_runner.cpp) are not what this is about and stay.
expect_no_shell_hooks() {
  local imports names
  imports=$(nm -D --undefined-only "$1" | awk '{sub(/@.*/, "", $2); print $2}' |
    { grep -xE 'system|popen' || true; } | paste -sd' ')
  expect_eq "$imports" "" "system/popen imported by $1"
  names=$(strings -a "$1" | { grep -oE 'CMSYNC_TEST_[A-Z_]*' || true; } | sort -u | paste -sd' ')
  expect_eq "$names" "" "CMSYNC_TEST_ names in $1"
}

test_release_build_binary_cannot_run_a_command_from_its_environment() {
  local shipped=$CMSYNC_BUILD_DIR/cmd/kubectl-cmsync/kubectl-cmsync
  local faults=$CMSYNC_BUILD_DIR/tests/e2e/kubectl-cmsync-faults
  expect_no_shell_hooks "$shipped"
  # The fault build (tests only) does both, so the check above can see them.
  [[ -x "$faults" ]] || fail "no $faults: the e2e suite needs a build with -Dtests=true"
  expect_eq "$(nm -D --undefined-only "$faults" | grep -cE ' system@')" 1 "system imported by the fault build"
  expect_eq "$(strings -a "$faults" | grep -oE 'CMSYNC_TEST_[A-Z_]*' | sort -u | paste -sd' ')" \
    "CMSYNC_TEST_AFTER_PAGE CMSYNC_TEST_BEFORE_WRITE" "names read by the fault build"
  # And at run time: with both variables set, sync (a write) and resync (a list page) through
  # the shipped binary run neither command; the fault build runs both.
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=k=v1 >/dev/null
  cat >"$T/hook" <<'HOOK'
#!/bin/sh
echo "$1" >>"$CMSYNC_HOOK_LOG"
HOOK
  chmod +x "$T/hook"
  export CMSYNC_HOOK_LOG=$T/hook.log CMSYNC_TEST_BEFORE_WRITE="$T/hook write" CMSYNC_TEST_AFTER_PAGE="$T/hook page"
  run kubectl cmsync sync "$a" "$b" --name app-config
  expect_rc 0
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"k":"v2"}}' >/dev/null
  run kubectl cmsync resync "$b"
  expect_rc 0
  expect_in "$out" "$b/app-config: updated"
  [[ ! -e "$T/hook.log" ]] || fail "the shipped binary ran a hook: $(cat "$T/hook.log")"
  k -n "$a" patch configmap app-config --type merge -p '{"data":{"k":"v3"}}' >/dev/null
  with_fault_hooks run kubectl cmsync sync "$a" "$b" --name app-config
  expect_rc 0
  with_fault_hooks run kubectl cmsync resync "$b"
  expect_rc 0
  expect_eq "$(paste -sd' ' "$T/hook.log")" "write page" "hooks run by the fault build"
}

test_release_archive_binary_cannot_run_a_command_from_its_environment() {
  if [[ -z "${CMSYNC_RELEASE_ARCHIVE:-}" ]]; then
    echo "skipped: no release archive (scripts/test builds one and sets CMSYNC_RELEASE_ARCHIVE)"
    exit 77
  fi
  mkdir -p "$T/bin"
  tar -xzf "$CMSYNC_RELEASE_ARCHIVE" -C "$T/bin"
  expect_no_shell_hooks "$T/bin/kubectl-cmsync"
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

# The container image (issue 16): an OCI archive FROM scratch. Unpacked with umoci, its root
# filesystem runs the plugin with chroot as user 65532, against the test control plane.
image_archive_or_skip() {
  if [[ -z "${CMSYNC_IMAGE_ARCHIVE:-}" ]]; then
    echo "skipped: no image archive (scripts/test builds one and sets CMSYNC_IMAGE_ARCHIVE)"
    exit 77
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "skipped: unpacking the image and chroot need root (as CI runs)"
    exit 77
  fi
}

# unpack_image ARCHIVE DIR: the OCI layout in DIR/layout, the root filesystem in DIR/bundle/rootfs.
unpack_image() {
  mkdir -p "$2/layout"
  tar -xf "$1" -C "$2/layout"
  local tag
  tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$2/layout/index.json")
  umoci unpack --image "$2/layout:$tag" "$2/bundle" >/dev/null
}

test_image_runs_version_and_a_real_sync_from_its_root_filesystem() {
  image_archive_or_skip
  unpack_image "$CMSYNC_IMAGE_ARCHIVE" "$T/image"
  local rootfs=$T/image/bundle/rootfs layout=$T/image/layout version
  expect_no_shell_hooks "$rootfs/usr/local/bin/kubectl-cmsync"
  version=v$(kubectl-cmsync version | awk '{print $2}')
  # what skopeo (an independent reader) sees agrees with the digest scripts/image recorded
  run skopeo inspect --raw "oci-archive:$CMSYNC_IMAGE_ARCHIVE"
  expect_rc 0
  expect_eq "sha256:$(sha256sum <"$T/out" | cut -d' ' -f1)" "$(cat "$CMSYNC_IMAGE_ARCHIVE.digest")"
  local config
  config=$(jq -r '.config.digest' <<<"$out" | sed 's#sha256:#blobs/sha256/#')
  config=$(cat "$layout/$config")
  expect_eq "$(jqv "$config" '.config.User')" "65532:65532"
  expect_eq "$(jqv "$config" '.config.Entrypoint | join(" ")')" /usr/local/bin/kubectl-cmsync
  expect_eq "$(jqv "$config" '.config.Labels["org.opencontainers.image.version"]')" "$version"
  expect_eq "$(jqv "$config" '.config.Labels["org.opencontainers.image.licenses"]')" Apache-2.0
  expect_match "$(jqv "$config" '.config.Labels["org.opencontainers.image.source"]')" '^https://github.com/'
  expect_eq "$(jqv "$config" '.os + "/" + .architecture')" linux/amd64
  grep -qx 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' "$rootfs/etc/passwd" || fail "no user 65532"
  grep -qx 'nonroot:x:65532:' "$rootfs/etc/group" || fail "no group 65532"

  # No shell, and nothing but the binary, its libraries, CA certificates, passwd and group.
  run chroot "$rootfs" /bin/sh -c true
  expect_rc 127
  expect_eq "$(find "$rootfs" -name sh -o -name bash -o -name dash -o -name ash -o -name busybox)" ""
  # The loader of the image, inside it, finds every library of the binary and of libcurl.
  local loader listing libs=()
  loader=$(readelf -l "$rootfs/usr/local/bin/kubectl-cmsync" | sed -n 's/.*interpreter: \(.*\)]$/\1/p')
  for object in /usr/local/bin/kubectl-cmsync /lib/x86_64-linux-gnu/libcurl.so.4; do
    run chroot "$rootfs" "$loader" --list "$object"
    expect_rc 0
    expect_not_in "$out" "not found"
    listing+=$out$'\n'
  done
  mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$listing" | sort -u)
  local expected have
  expected=$(printf '%s\n' /usr/local/bin/kubectl-cmsync /etc/passwd /etc/group \
    /etc/ssl/certs/ca-certificates.crt /lib/x86_64-linux-gnu/libcurl.so.4 "$loader" "${libs[@]}" | sort -u)
  have=$(cd "$rootfs" && find . -type f -o -type l | sed 's#^\.##' | sort)
  expect_eq "$have" "$expected" "exactly the binary, the libraries it loads, CA certificates, passwd, group"
  expect_eq "$(cd "$rootfs" && find . -type l)" "" "no symlinks"

  # version, then a real sync as user 65532 (the kubeconfig with its certificates inlined)
  run chroot --userspec=65532:65532 "$rootfs" /usr/local/bin/kubectl-cmsync version
  expect_rc 0
  expect_eq "$out" "kubectl-cmsync ${version#v}"
  kubectl config view --raw --flatten --minify --kubeconfig "$CMSYNC_ADMIN_KUBECONFIG" >"$rootfs/kubeconfig"
  chmod 0644 "$rootfs/kubeconfig"
  local a b
  a=$(new_ns src); b=$(new_ns dst)
  k -n "$a" create configmap app-config --from-literal=config.yaml=from-the-image >/dev/null
  run chroot --userspec=65532:65532 "$rootfs" /usr/local/bin/kubectl-cmsync --kubeconfig /kubeconfig \
    sync "$a" "$b" --name app-config
  expect_rc 0
  expect_in "$out" "$b/app-config: created (add config.yaml)"
  expect_eq "$(cm_key "$b" app-config config.yaml)" from-the-image
  local size
  size=$(stat -c %s "$CMSYNC_IMAGE_ARCHIVE")
  echo "image archive: $size bytes"
  (( size < 15 * 1024 * 1024 )) || fail "image archive is $size bytes, over the 15 MiB goal"
}

test_image_is_reproducible() {
  image_archive_or_skip
  # Built twice from this tree, a second apart, with another umask and time zone: the same
  # manifest digest and the same archive bytes.
  local one two
  one=$("$CMSYNC_SOURCE_DIR/scripts/image" "$T/one" 2>"$T/image.log") || { cat "$T/image.log"; fail "scripts/image failed"; }
  sleep 1
  two=$(umask 077; TZ=Asia/Tokyo "$CMSYNC_SOURCE_DIR/scripts/image" "$T/two" 2>"$T/image.log") || {
    cat "$T/image.log"; fail "scripts/image failed"; }
  expect_match "$(cat "$one.digest")" '^sha256:[0-9a-f]{64}$'
  expect_eq "$(cat "$two.digest")" "$(cat "$one.digest")" "manifest digest"
  expect_eq "$(sha256sum <"$two")" "$(sha256sum <"$one")" "archive bytes"
}
