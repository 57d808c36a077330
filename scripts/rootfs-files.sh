#!/bin/sh
# The file set of the FROM-scratch image, in one place for the Dockerfile and for
# test/docker-rootfs.test.ts (which runs the same set under chroot, as no Docker engine runs there).
#
#   scripts/rootfs-files.sh list BINARY          print "SOURCE -> DESTINATION" for every file
#   scripts/rootfs-files.sh assemble BINARY ROOT  build the root folder ROOT (as root: owners set)
#   scripts/rootfs-files.sh context BINARY DIR    the same set split for a Dockerfile's two COPY
#                                                 lines: DIR/root/ (everything but the data folder,
#                                                 copied as root) and DIR/app-owned/data (copied with
#                                                 --chown=10001:10001; COPY gives everything it
#                                                 copies to root, and a folder copied onto an
#                                                 existing one keeps that one's owner)
#
# The set: the compiled binary, exactly the shared libraries `ldd` lists plus the dynamic loader,
# the CA certificates, /etc/passwd and /etc/group with the non-root user, /etc/nsswitch.conf, a
# writable data folder for the embedded engine and a writable /tmp.
set -eu

APP_UID=10001
APP_GID=10001
BIN_DEST=/usr/local/bin/authly
DATA_DIR=/data
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

usage() {
  echo "usage: $0 list BINARY | assemble BINARY ROOT | context BINARY DIR" >&2
  exit 2
}

# Absolute paths of the libraries and loader the binary needs (ldd; the vDSO has no file).
libraries() {
  ldd "$1" | awk '
    /=>/ { if ($3 ~ /^\//) print $3; next }
    $1 ~ /^\// { print $1 }
  '
}

list() {
  bin=$1
  echo "$bin -> $BIN_DEST"
  for lib in $(libraries "$bin"); do echo "$lib -> $lib"; done
  echo "$CA_BUNDLE -> $CA_BUNDLE"
  echo "(generated) -> /etc/passwd"
  echo "(generated) -> /etc/group"
  echo "(generated) -> /etc/nsswitch.conf"
  echo "(directory, owner $APP_UID, 0700) -> $DATA_DIR"
  echo "(directory, 1777) -> /tmp"
}

assemble() {
  bin=$1
  root=$2
  [ -f "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }
  [ -f "$CA_BUNDLE" ] || { echo "no CA bundle at $CA_BUNDLE (install ca-certificates)" >&2; exit 1; }
  mkdir -p "$root"
  install -D -m 0755 "$bin" "$root$BIN_DEST"
  for lib in $(libraries "$bin"); do
    mkdir -p "$root$(dirname "$lib")"
    # -L: copy the file a symlink points to, under the name the loader asks for.
    cp -L "$lib" "$root$lib"
  done
  install -D -m 0644 "$CA_BUNDLE" "$root$CA_BUNDLE"
  mkdir -p "$root/etc"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nauthly:x:%s:%s:authly:%s:/sbin/nologin\n' "$APP_UID" "$APP_GID" "$DATA_DIR" >"$root/etc/passwd"
  printf 'root:x:0:\nauthly:x:%s:\n' "$APP_GID" >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
  mkdir -p "$root$DATA_DIR" "$root/tmp"
  chmod 0700 "$root$DATA_DIR"
  chmod 1777 "$root/tmp"
  if [ "$(id -u)" = 0 ]; then chown "$APP_UID:$APP_GID" "$root$DATA_DIR"; fi
}

# The image build context of one platform (see the header).
context() {
  bin=$1
  dir=$2
  rm -rf "$dir/root" "$dir/app-owned"
  assemble "$bin" "$dir/root"
  mkdir -p "$dir/app-owned"
  mv "$dir/root$DATA_DIR" "$dir/app-owned$DATA_DIR"
}

[ $# -ge 2 ] || usage
case "$1" in
  list) list "$2" ;;
  assemble) [ $# -eq 3 ] || usage; assemble "$2" "$3" ;;
  context) [ $# -eq 3 ] || usage; context "$2" "$3" ;;
  *) usage ;;
esac
