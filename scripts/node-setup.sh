#!/bin/sh
# node-setup.sh: register l1vh with the node's container runtime manager
# (docs/operate.md).  Idempotent; keeps the rest of the node's config; says
# what it changed and what to restart; --uninstall undoes it.
#
#   node-setup.sh crio [--handler] [--shim PATH] [--root DIR] [--uninstall]
#   node-setup.sh containerd [--config-version 2|3] [--shim PATH] [--root DIR] [--uninstall]
#
# crio        a drop-in, /etc/crio/crio.conf.d/99-l1vh.conf, whose hooks_dir
#             lists the node's hooks dirs plus both dirs l1vh installs into
#             (CRI-O reads only the first by default); --handler adds a
#             runtime handler "l1vh" that runs the shim.
# containerd  a runtime handler "l1vh" whose runc binary is the shim, with
#             the pod annotations l1vh reads passed through:
#             version 2 (containerd 1.x): merged into config.toml between
#               "# BEGIN l1vh" and "# END l1vh", because containerd 1.x lets
#               an imported file replace the whole CRI plugin section and the
#               node's own CRI settings would be lost;
#             version 3 (containerd 2.x, which merges imports): a drop-in,
#               /etc/containerd/conf.d/99-l1vh.toml, added to `imports`.
# --root DIR  prefix every file this script reads or writes (tests, or a
#             DaemonSet that mounts the host at DIR); paths written into the
#             configs stay host paths.
set -eu

PROG=node-setup
HANDLER=l1vh
MARK="# Written by l1vh node-setup.sh; undo with: node-setup.sh"
BEGIN_MARK="# BEGIN l1vh (node-setup.sh; undo with: node-setup.sh containerd --uninstall)"
END_MARK="# END l1vh"
IMPORT_MARK="# added by l1vh node-setup.sh"
HOOKS_DIRS="/usr/share/containers/oci/hooks.d /etc/containers/oci/hooks.d"
CRIO_DEFAULT_HOOKS_DIR=/usr/share/containers/oci/hooks.d
# The pod annotations l1vh reads: the VM marker and its own per-VM knobs.
POD_ANNOTATIONS='"kubevirt.io/domain", "l1vh.kubevirt.io/*"'

usage() {
  cat >&2 <<EOF
usage: $0 crio [--handler] [--shim PATH] [--root DIR] [--uninstall]
       $0 containerd [--config-version 2|3] [--shim PATH] [--root DIR] [--uninstall]
EOF
  exit 2
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

runtime=${1:-}
[ $# -gt 0 ] && shift
case $runtime in crio | containerd) ;; *) usage ;; esac
uninstall=false handler=false root="" version="" shim=/usr/local/bin/l1vh-shim
while [ $# -gt 0 ]; do
  case $1 in
  --uninstall) uninstall=true ;;
  --handler) handler=true ;;
  --root) [ $# -ge 2 ] || usage; root=${2%/}; shift ;;
  --shim) [ $# -ge 2 ] || usage; shim=$2; shift ;;
  --config-version) [ $# -ge 2 ] || usage; version=$2; shift ;;
  *) usage ;;
  esac
  shift
done
case $shim in /*) ;; *) die "--shim needs an absolute path, got \"$shim\"" ;; esac
case $version in "" | 2 | 3) ;; *) die "--config-version must be 2 or 3, got \"$version\"" ;; esac
[ "$runtime" = crio ] && [ -n "$version" ] && die "--config-version is for containerd"
[ "$runtime" = containerd ] && [ "$handler" = true ] && die "--handler is for crio (containerd always gets the handler)"

changed=false

# Replace $1 with the content of $2 (a temp file) when they differ; say so.
install_file() {
  dst=$1 new=$2 what=$3
  if [ -f "$dst" ] && cmp -s "$dst" "$new"; then
    rm -f "$new"
    say "unchanged: $dst"
    return
  fi
  chmod 0644 "$new"
  mv -f "$new" "$dst"
  changed=true
  say "wrote $dst: $what"
}

remove_file() {
  if [ -e "$1" ]; then
    rm -f "$1"
    changed=true
    say "removed $1"
  fi
  # A drop-in directory left empty goes too (install made it when missing).
  rmdir "$(dirname "$1")" 2>/dev/null || true
}

# A temp file next to $1, so the final mv is a rename on the same file system.
tmp_for() {
  mktemp "$(dirname "$1")/.$(basename "$1").XXXXXX"
}

# Non-comment lines of a TOML file, for the greps below.
code() { sed -e 's/^[[:space:]]*#.*$//' "$1"; }

# ---------------------------------------------------------------- CRI-O --

# The quoted strings of `hooks_dir` in table [crio.runtime] of file $1, one
# per line; nothing when the file does not set it (exit 1 then).
crio_hooks_dir() {
  awk '
    function strip(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    /^[ \t]*#/ { next }
    /^[ \t]*\[/ { t = $0; sub(/#.*/, "", t); t = strip(t); gsub(/^\[+|\]+$/, "", t); table = strip(t); next }
    table == "crio.runtime" && /^[ \t]*hooks_dir[ \t]*=/ { inval = 1; found = 1; buf = "" }
    inval {
      line = $0; sub(/#.*/, "", line); buf = buf line
      if (line ~ /\]/) {
        inval = 0
        sub(/^[^=]*=[ \t]*\[/, "", buf); sub(/\].*/, "", buf)
        n = split(buf, parts, ",")
        out = ""
        for (i = 1; i <= n; i++) { p = strip(parts[i]); gsub(/^["\047]|["\047]$/, "", p); if (p != "") out = out p "\n" }
        vals = out
      }
    }
    END { printf "%s", vals; exit(found ? 0 : 1) }
  ' "$1"
}

# Does drop-in name $1 sort after ours (CRI-O reads them in name order)?
after_ours() {
  [ "$1" != 99-l1vh.conf ] &&
    [ "$(printf '%s\n%s\n' "$1" 99-l1vh.conf | LC_ALL=C sort | tail -n 1)" = "$1" ]
}

crio() {
  dir=$root/etc/crio/crio.conf.d
  dropin=$dir/99-l1vh.conf
  if [ "$uninstall" = true ]; then
    if [ -e "$dropin" ] && ! grep -qF "$MARK" "$dropin"; then
      die "$dropin was not written by node-setup.sh: left alone"
    fi
    remove_file "$dropin"
    return
  fi
  [ -e "$dropin" ] && ! grep -qF "$MARK" "$dropin" &&
    die "$dropin exists and was not written by node-setup.sh: move it away first"

  # The hooks dirs CRI-O uses now: the last file that sets hooks_dir wins
  # (crio.conf, then the drop-ins in name order); ours replaces that list,
  # so it keeps every dir in it.
  current=$CRIO_DEFAULT_HOOKS_DIR source="CRI-O's default"
  later=""
  for f in "$root/etc/crio/crio.conf" "$dir"/*.conf; do
    [ -f "$f" ] || continue
    [ "$f" = "$dropin" ] && continue
    if v=$(crio_hooks_dir "$f"); then
      current=$v source=$f
      after_ours "$(basename "$f")" && later="$later $f"
    fi
  done
  dirs=""
  for d in $current $HOOKS_DIRS; do
    case " $dirs " in *" $d "*) ;; *) dirs="$dirs $d" ;; esac
  done

  mkdir -p "$dir"
  new=$(tmp_for "$dropin")
  {
    echo "$MARK crio --uninstall"
    echo "# hooks_dir: the node's list ($source) plus both dirs l1vh installs"
    echo "# hooks.d/l1vh.json into; CRI-O reads only the first one by default."
    echo "[crio.runtime]"
    echo "hooks_dir = ["
    for d in $dirs; do echo "  \"$d\","; done
    echo "]"
    if [ "$handler" = true ]; then
      echo
      echo "# A runtime handler that runs l1vh's shim (RuntimeClass handler \"$HANDLER\")."
      echo "[crio.runtime.runtimes.$HANDLER]"
      echo "runtime_path = \"$shim\""
      echo "runtime_type = \"oci\""
      echo "runtime_root = \"/run/runc\""
    fi
  } >"$new"
  install_file "$dropin" "$new" "hooks_dir = [$(echo "$dirs" | sed 's/^ //; s/ /, /g')]$([ "$handler" = true ] && echo "; runtime handler $HANDLER -> $shim")"
  for f in $later; do
    say "warning: $f sets hooks_dir after $dropin and overrides it: add $HOOKS_DIRS there"
  done
}

# ----------------------------------------------------------- containerd --

# The file's top-level `version`, or nothing.
toml_version() {
  awk '/^[ \t]*\[/ { exit } /^[ \t]*version[ \t]*=/ { v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t#].*/, "", v); print v; exit }' "$1"
}

# The top-level `imports` entries of file $1, one per line, under $root.
containerd_imports() {
  awk '
    /^[ \t]*\[/ { exit }
    /^[ \t]*imports[ \t]*=/ { inval = 1; buf = "" }
    inval {
      line = $0; sub(/#.*/, "", line); buf = buf line
      if (line ~ /\]/) {
        sub(/^[^\[]*\[/, "", buf); sub(/\].*/, "", buf)
        n = split(buf, parts, ",")
        for (i = 1; i <= n; i++) { p = parts[i]; gsub(/^[ \t"\047]+|[ \t"\047]+$/, "", p); if (p != "") print p }
        exit
      }
    }
  ' "$1"
}

cri_plugin_v2='io.containerd.grpc.v1.cri'
cri_plugin_v3='io.containerd.cri.v1.runtime'

# Table headers in file $1 under plugin $2 (quoted or not), or under a bare
# [plugins] table that names it as a dotted key.
mentions_plugin() {
  code "$1" | grep -Eq "^[[:space:]]*\[+[[:space:]]*plugins[[:space:]]*\.[[:space:]]*[\"']?$(echo "$2" | sed 's/\./\\./g')[\"']?" ||
    code "$1" | grep -Eq "^[[:space:]]*[\"']$(echo "$2" | sed 's/\./\\./g')[\"'][[:space:]]*[.=]"
}

systemd_cgroup() {
  for f in "$@"; do
    [ -f "$f" ] && code "$f" | grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*true' && return 0
  done
  return 1
}

handler_tables() { # plugin, systemd(true|false)
  echo "[plugins.\"$1\".containerd.runtimes.$HANDLER]"
  echo "  runtime_type = \"io.containerd.runc.v2\""
  echo "  # l1vh matches VM pods by these; containerd passes pod annotations only when listed."
  echo "  pod_annotations = [$POD_ANNOTATIONS]"
  echo "[plugins.\"$1\".containerd.runtimes.$HANDLER.options]"
  echo "  BinaryName = \"$shim\""
  if [ "$2" = true ]; then
    echo "  SystemdCgroup = true"
  fi
}

# The file without our BEGIN..END block.
without_block() {
  awk -v b="$BEGIN_MARK" -v e="$END_MARK" '$0 == b { skip = 1; next } skip && $0 == e { skip = 0; next } !skip' "$1"
}

# A config.toml this script created holds only this until its handler is added.
created_header() {
  echo "$MARK containerd --uninstall (removes this file when nothing else was added)"
  echo "version = $1"
}

# Remove the config.toml we created when nothing but our header is left.
remove_if_ours() {
  [ -f "$1" ] || return 0
  for n in 2 3; do
    if [ "$(created_header $n)" = "$(cat "$1")" ]; then
      remove_file "$1"
      return 0
    fi
  done
}

# Every existing file the main config imports (globs expanded, under $root).
imported_files() {
  containerd_imports "$1" | while IFS= read -r imp; do
    case $imp in /*) ;; *) imp=$(dirname "${1#"$root"}")/$imp ;; esac
    for f in $root$imp; do [ -f "$f" ] && echo "$f"; done
  done
}

containerd_v2() {
  main=$1
  if [ "$uninstall" = true ]; then
    if [ -f "$main" ] && grep -qxF "$BEGIN_MARK" "$main"; then
      new=$(tmp_for "$main")
      without_block "$main" >"$new"
      install_file "$main" "$new" "removed runtime handler $HANDLER"
    fi
    remove_if_ours "$main"
    return
  fi
  mkdir -p "$(dirname "$main")"
  body=$(mktemp)
  [ -f "$main" ] && without_block "$main" >"$body"
  if code "$body" | grep -Eq "runtimes\.[\"']?${HANDLER}[\"']?[[:space:]]*\]"; then
    rm -f "$body"
    die "$main already defines a runtime \"$HANDLER\" outside l1vh's block: remove it or rename it"
  fi
  # containerd 1.x: an imported file that sets anything of the CRI plugin
  # replaces the whole section, ours included.  Refuse rather than add a
  # handler that silently never exists.
  for f in $(imported_files "$main"); do
    if mentions_plugin "$f" "$cri_plugin_v2"; then
      rm -f "$body"
      die "$f (imported by $main) sets plugins.\"$cri_plugin_v2\"; containerd 1.x lets an import replace that whole section, so a handler in $main would be dropped. Move that file's CRI settings into $main, or add l1vh's handler to $f by hand (docs/operate.md)"
    fi
  done
  sd=false
  systemd_cgroup "$main" && sd=true
  new=$(tmp_for "$main")
  {
    if [ -f "$main" ]; then
      cat "$body"
    else
      created_header 2
    fi
    echo "$BEGIN_MARK"
    handler_tables "$cri_plugin_v2" "$sd"
    echo "$END_MARK"
  } >"$new"
  rm -f "$body"
  install_file "$main" "$new" "runtime handler $HANDLER -> $shim$([ "$sd" = true ] && echo ", SystemdCgroup as the node's runc")"
}

containerd_v3() {
  main=$1
  dropin_host=/etc/containerd/conf.d/99-l1vh.toml
  dropin=$root$dropin_host
  if [ "$uninstall" = true ]; then
    remove_file "$dropin"
    if [ -f "$main" ] && grep -qF "\"$dropin_host\"" "$main"; then
      new=$(tmp_for "$main")
      awk -v line="imports = [\"$dropin_host\"] $IMPORT_MARK" -v q="\"$dropin_host\"" '
        $0 == line { next }
        /^[ \t]*imports[ \t]*=/ && !done {
          e = q ", "; i = index($0, e)
          if (!i) { e = q; i = index($0, e) }
          if (i) { $0 = substr($0, 1, i - 1) substr($0, i + length(e)); done = 1 }
        }
        { print }' "$main" >"$new"
      install_file "$main" "$new" "removed $dropin_host from imports"
    fi
    remove_if_ours "$main"
    return
  fi
  sd=false
  # shellcheck disable=SC2046 # one file per line, no spaces in config paths
  systemd_cgroup "$main" $(imported_files "$main") && sd=true
  mkdir -p "$(dirname "$dropin")"
  new=$(tmp_for "$dropin")
  {
    echo "$MARK containerd --uninstall"
    echo "version = 3"
    echo
    handler_tables "$cri_plugin_v3" "$sd"
  } >"$new"
  install_file "$dropin" "$new" "runtime handler $HANDLER -> $shim"

  # Is the drop-in imported already (its path, or a glob that matches it)?
  if containerd_imports "$main" | {
    while IFS= read -r imp; do
      # shellcheck disable=SC2254 # imports are globs: match as one
      case $dropin_host in $imp) exit 0 ;; esac
    done
    exit 1
  }; then
    return
  fi
  new=$(tmp_for "$main")
  if awk '/^[ \t]*\[/ { exit } /^[ \t]*imports[ \t]*=/ { found = 1; exit } END { exit !found }' "$main"; then
    awk -v q="\"$dropin_host\"" '
      /^[ \t]*imports[ \t]*=/ && !done {
        i = index($0, "["); rest = substr($0, i + 1)
        $0 = substr($0, 1, i) q (rest ~ /^[ \t]*\]/ ? "" : ", ") rest; done = 1
      }
      { print }' "$main" >"$new"
  else
    # A new top-level key goes before the first table: after `version`.
    awk -v line="imports = [\"$dropin_host\"] $IMPORT_MARK" '
      !done && /^[ \t]*version[ \t]*=/ { print; print line; done = 1; next }
      !done && /^[ \t]*\[/ { print line; done = 1 }
      { print }
      END { if (!done) print line }' "$main" >"$new"
  fi
  install_file "$main" "$new" "imports $dropin_host"
}

containerd() {
  main=$root/etc/containerd/config.toml
  have=""
  [ -f "$main" ] && have=$(toml_version "$main")
  if [ -n "$version" ] && [ -n "$have" ] && [ "$version" != "$have" ]; then
    die "$main is config version $have, not $version: leave out --config-version or migrate it (containerd config migrate)"
  fi
  v=${version:-${have:-2}}
  if [ -f "$main" ] && [ -z "$have" ]; then
    die "$main has no version: a version 1 config; migrate it first (containerd config migrate)"
  fi
  case $v in
  2) containerd_v2 "$main" ;;
  3)
    if [ ! -f "$main" ] && [ "$uninstall" = false ]; then
      mkdir -p "$(dirname "$main")"
      created_header 3 >"$main"
      changed=true
      say "wrote $main: version = 3"
    fi
    [ -f "$main" ] && containerd_v3 "$main"
    ;;
  *) die "$main: config version $v is not supported (2 or 3)" ;;
  esac
}

case $runtime in
crio) crio ;;
containerd) containerd ;;
esac

if [ "$changed" = true ]; then
  say "restart $runtime to apply: systemctl restart $runtime (running containers keep running)"
  [ "$uninstall" = false ] && [ ! -x "$root$shim" ] && { [ "$runtime" = containerd ] || [ "$handler" = true ]; } &&
    say "warning: $shim is not installed yet (make install, or the DaemonSet copies it)"
else
  say "nothing changed"
fi
exit 0
