# shellcheck shell=bash
# Shared set-up for scripts/test and scripts/up: the Python environment and
# the Debian packages the project runs on. Sourced, not executed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${CMMS_VENV:-$ROOT/.venv}
BASE_PYTHON=${CMMS_PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1m[cmms]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[cmms] %s\033[0m\n' "$*" >&2; exit 1; }

# Odoo 18 is a prerequisite installed in the machine's Python (or in the
# Python named by CMMS_PYTHON). Print its source root, or nothing.
odoo_root() {
  "$BASE_PYTHON" - 2>/dev/null <<'PY' || true
import os
import odoo.release as r
if r.version_info[:2] == (18, 0):
    print(os.path.dirname(os.path.dirname(os.path.abspath(r.__file__))))
PY
}

ensure_venv() {
  command -v "$BASE_PYTHON" >/dev/null || die "no $BASE_PYTHON on PATH"
  if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV (inherits the machine's site-packages, where Odoo 18 lives)"
    "$BASE_PYTHON" -m venv --system-site-packages "$VENV"
  fi
  ODOO_ROOT=$(odoo_root)
  local site
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  if [[ -n $ODOO_ROOT ]]; then
    # OCA wheels install into site-packages/odoo/addons; put Odoo's own
    # package first on the path so that `odoo` stays a regular package.
    echo "$ODOO_ROOT" >"$site/_cmms_odoo_root.pth"
  else
    rm -f "$site/_cmms_odoo_root.pth"
  fi
  local stamp=$VENV/.cmms-requirements
  local want
  want=$(cat "$ROOT"/requirements*.txt "$ROOT"/connector/requirements.txt \
    "$ROOT"/simulator/requirements.txt 2>/dev/null | sha1sum | cut -c1-12)
  want="$want-${ODOO_ROOT:+odoo}"
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    log "installing Python packages into $VENV"
    "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements-dev.txt" \
      || die "pip could not install requirements-dev.txt"
    if [[ -n $ODOO_ROOT ]]; then
      "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements-odoo.txt" \
        || die "pip could not install the OCA addons of requirements-odoo.txt"
    fi
    # The connector's optional PostgreSQL store (tested by the test command):
    # the machine's Odoo brings psycopg2; elsewhere take the binary wheel.
    "$VENV/bin/python" -c "import psycopg2" 2>/dev/null \
      || "$VENV/bin/python" -m pip install -q "psycopg2-binary>=2.9,<3" \
      || die "pip could not install psycopg2-binary (for the PostgreSQL store tests)"
    echo "$want" >"$stamp"
  fi
  export ODOO_ROOT
  PY=$VENV/bin/python
  export PY
}

# Install Debian packages when their command is missing; one clear message
# when that is impossible.
ensure_debian() {
  local missing=() cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/"$cmd" >/dev/null 2>&1 \
      && [[ ! -x /usr/sbin/$cmd ]]; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      die "apt-get could not install: ${missing[*]}"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    log "installing Debian packages with sudo: ${missing[*]}"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      die "apt-get could not install: ${missing[*]}"
  else
    die "missing Debian packages: ${missing[*]} (install them: sudo apt-get install ${missing[*]})"
  fi
}
