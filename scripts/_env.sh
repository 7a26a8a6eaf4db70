# shellcheck shell=bash
# Shared set-up for scripts/test and scripts/up: the Python environment and
# the Debian packages the project runs on. Sourced, not executed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${CMMS_VENV:-$ROOT/.venv}
BASE_PYTHON=${CMMS_PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1m[cmms]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[cmms] %s\033[0m\n' "$*" >&2; exit 1; }

# Print the source root of the Odoo 18 importable in the Python $1, or nothing.
odoo_root() {
  "$1" - 2>/dev/null <<'PY' || true
import os
import odoo.release as r
if r.version_info[:2] == (18, 0):
    print(os.path.dirname(os.path.dirname(os.path.abspath(r.__file__))))
PY
}

# Where Odoo 18 comes from: the machine's Python when it imports Odoo 18
# ("system": the venv sees the machine's site-packages), else an install into
# the venv ("venv": from CMMS_ODOO_SOURCE, or Odoo's official 18.0 source
# archive; see scripts/odoo_install.py). CMMS_ODOO_SOURCE always means "venv".
odoo_mode() {
  if [[ -n ${CMMS_ODOO_SOURCE:-} ]]; then
    echo venv
  elif [[ -n $(odoo_root "$BASE_PYTHON") ]]; then
    echo system
  else
    echo venv
  fi
}

ensure_venv() {
  command -v "$BASE_PYTHON" >/dev/null || die "no $BASE_PYTHON on PATH"
  local mode system_site
  mode=$(odoo_mode)
  system_site=false
  [[ $mode == system ]] && system_site=true
  if [[ -f $VENV/pyvenv.cfg ]] \
    && ! grep -qx "include-system-site-packages = $system_site" "$VENV/pyvenv.cfg"; then
    log "recreating $VENV: Odoo now comes from the $mode Python"
    rm -rf "$VENV"
  fi
  if [[ ! -x $VENV/bin/python ]]; then
    if [[ $mode == system ]]; then
      log "creating $VENV (inherits the machine's site-packages, where Odoo 18 lives)"
      "$BASE_PYTHON" -m venv --system-site-packages "$VENV"
    else
      log "creating $VENV (Odoo 18 is installed into it)"
      "$BASE_PYTHON" -m venv "$VENV"
    fi
  fi
  if [[ $mode == venv ]]; then
    # psycopg2 and python-ldap build from source for Odoo's pins.
    ensure_debian_pkgs gcc libpq-dev libldap2-dev libsasl2-dev
    "$VENV/bin/python" "$ROOT/scripts/odoo_install.py" --venv "$VENV" >/dev/null \
      || die "Odoo 18 could not be installed into $VENV (see above)"
  fi
  ODOO_ROOT=$(odoo_root "$VENV/bin/python")
  [[ -n $ODOO_ROOT || $mode == system ]] || die "Odoo 18 is not importable in $VENV after its install"
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
  [[ $mode == system ]] || want="$want-$mode"
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
  ensure_native
}

# The compiled twins of the connector's anomaly engine (connector/native.py):
# built when missing or older than their source; without a C compiler the
# connector runs the same code interpreted (slower), and says so.
ensure_native() {
  (cd "$ROOT" && "$PY" -m connector.native --check >/dev/null 2>&1) && { export CMMS_NATIVE_BUILT=1; return 0; }
  ensure_debian_pkgs gcc python3-dev
  log "compiling the anomaly engine (python -m connector.native)"
  if (cd "$ROOT" && "$PY" -m connector.native >/dev/null); then
    export CMMS_NATIVE_BUILT=1
  else
    log "the anomaly engine was not compiled: the connector runs it interpreted"
  fi
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
  apt_install "${missing[@]}"
}

# Install Debian packages (by package name) that dpkg does not list.
ensure_debian_pkgs() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  command -v dpkg >/dev/null || return 0
  apt_install "${missing[@]}"
}

apt_install() {
  local missing=("$@")
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
