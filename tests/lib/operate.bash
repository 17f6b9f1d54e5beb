# Helpers for the operator suites (70-73): install, node set-up, check, status.

SETUP=$L1VH_TOP/scripts/node-setup.sh
SETUP_DATA=$L1VH_TOP/tests/data/node-setup

# A copy of a sample node tree under the test's temp dir; prints its path.
sample_node() {
  local name=$1 dst=$BATS_TEST_TMPDIR/node-$1
  rm -rf "$dst"
  cp -a "$SETUP_DATA/$name" "$dst"
  echo "$dst"
}

# Evaluate a Python expression over parsed TOML files: t0, t1, ... are the
# files given, parsed with Python's tomllib (a real TOML parser).
toml_eval() {
  local expr=$1
  shift
  python3 - "$expr" "$@" <<'PY'
import sys, tomllib, json
expr, files = sys.argv[1], sys.argv[2:]
env = {}
for i, f in enumerate(files):
    with open(f, "rb") as fh:
        env["t%d" % i] = tomllib.load(fh)
v = eval(expr, {}, env)
print(json.dumps(v) if not isinstance(v, str) else v)
PY
}

# A checksum of every file under a dir, to prove "nothing else changed".
tree_sum() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
