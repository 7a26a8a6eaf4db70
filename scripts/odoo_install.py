"""Install Odoo 18.0 into the project's virtual environment (called by ``_env.sh``).

Run with the venv's Python when no Odoo 18 is importable on the machine (or
``CMMS_ODOO_SOURCE`` is set). The source is, in this order:

- ``CMMS_ODOO_SOURCE``: an Odoo 18.0 source tree (a folder with ``odoo-bin``),
  a ``.tar.gz``/``.tgz``/``.zip`` archive (path or URL), or a git directory
  (bare or not; the commit ``CMMS_ODOO_REF``, default ``HEAD``, taken with
  ``git archive``; a source tree that is also a git checkout is taken as a
  tree unless ``CMMS_ODOO_REF`` is set);
- otherwise Odoo's official 18.0 source archive (GitHub's 18.0 branch, then
  the nightly build).

The tree goes to ``<venv>/src/odoo`` (never into the repository), Odoo's
``requirements.txt`` is installed with the build constraints its pins need on
Python 3.11+ (``setuptools<70``: cbor2 and others still import
``pkg_resources`` while building), then Odoo itself in editable mode. A stamp
``<venv>/src/odoo.stamp`` names the source; a second run with the same source
does nothing. pip's cache is left on, so a new venv installs from the wheels
already built.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

OFFICIAL = (
    "https://github.com/odoo/odoo/archive/refs/heads/18.0.tar.gz",
    "https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz",
)
# setuptools for the builds; zope.* for gevent's plugin loading at run time
# (see requirements-odoo.txt).
CONSTRAINTS = "setuptools<70\nzope.interface==6.4.post2\nzope.event==5.0\n"
ODOO_BIN = """#!/usr/bin/env python3
# Written by scripts/odoo_install.py: the source archive had no odoo-bin.
import odoo

if __name__ == "__main__":
    odoo.cli.main()
"""


def log(msg: str) -> None:
    print(f"\033[1m[cmms]\033[0m {msg}", file=sys.stderr, flush=True)


def is_source_tree(path: Path) -> bool:
    return (path / "odoo" / "release.py").is_file() and (path / "setup.py").is_file()


def find_tree(top: Path) -> Path:
    """The Odoo root inside an extracted archive (itself or one level down)."""
    if is_source_tree(top):
        return top
    for child in sorted(top.iterdir()):
        if child.is_dir() and is_source_tree(child):
            return child
    raise SystemExit(f"no Odoo source tree (odoo/release.py, setup.py) in {top}")


def git_commit(path: str, ref: str) -> str | None:
    out = subprocess.run(
        ["git", "-C", path, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return out.stdout.strip() if out.returncode == 0 else None


def describe(source: str, ref: str | None) -> tuple[str, str]:
    """(kind, identity) of the source: the stamp that says it is installed."""
    path = Path(source)
    if source.startswith(("http://", "https://")):
        return "url", source
    if path.is_dir():
        if is_source_tree(path) and not ref:
            release = (path / "odoo" / "release.py").read_bytes()
            return "tree", f"{path.resolve()} {hashlib.sha1(release).hexdigest()}"
        commit = git_commit(source, ref or "HEAD")
        if commit:
            return "git", f"{path.resolve()} {commit}"
        raise SystemExit(
            f"CMMS_ODOO_SOURCE={source}: neither an Odoo source tree nor a git "
            f"directory with commit {ref or 'HEAD'}"
        )
    if path.is_file():
        st = path.stat()
        return "archive", f"{path.resolve()} {st.st_size} {int(st.st_mtime)}"
    raise SystemExit(f"CMMS_ODOO_SOURCE={source}: no such file or folder")


def extract_archive(archive: Path, dest: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")


def download(url: str, dest: Path) -> None:
    log(f"downloading {url}")
    with urllib.request.urlopen(url, timeout=120) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


def fetch_tree(kind: str, source: str, ref: str | None, work: Path) -> Path:
    """Put the source in *work* and return the Odoo root inside it."""
    work.mkdir(parents=True)
    if kind == "tree":
        dest = work / "odoo"
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git", "*.pyc"))
        return dest
    if kind == "git":
        dest = work / "odoo"
        dest.mkdir()
        git = subprocess.Popen(
            ["git", "-C", source, "archive", "--format=tar", ref or "HEAD"],
            stdout=subprocess.PIPE,
        )
        assert git.stdout is not None
        subprocess.run(["tar", "-x", "-C", str(dest)], stdin=git.stdout, check=True)
        git.stdout.close()
        if git.wait() != 0:
            raise SystemExit(f"git archive of {source} at {ref or 'HEAD'} failed")
        return find_tree(dest)
    archive = Path(source)
    if kind == "url":
        archive = work / "odoo-src.archive"
        download(source, archive)
    extract_archive(archive, work / "x")
    if kind == "url":
        archive.unlink()
    return find_tree(work / "x")


def pip(python: str, *args: str, env: dict) -> None:
    cmd = [python, "-m", "pip", "install", "-q", *args]
    if subprocess.run(cmd, env=env, check=False).returncode != 0:
        raise SystemExit(f"pip failed: {' '.join(cmd)}")


def install(venv: Path, source: str | None, ref: str | None) -> Path:
    src = venv / "src"
    stamp = src / "odoo.stamp"
    if source:
        kind, ident = describe(source, ref)
        candidates = [(kind, source, ident)]
    else:
        candidates = [("url", url, url) for url in OFFICIAL]
    if stamp.is_file() and stamp.read_text().strip() in {c[2] for c in candidates}:
        root = Path((src / "odoo.root").read_text().strip())
        if root.is_dir():
            return root
    src.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="odoo-", dir=src))
    errors = []
    for kind, where, ident in candidates:  # noqa: B007 - ident: the one that worked
        log(f"installing Odoo 18.0 into {venv} from {where}" + (f" at {ref}" if ref else ""))
        try:
            tree = fetch_tree(kind, where, ref, work / kind)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            errors.append(f"{where}: {exc}")
            continue
        break
    else:
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit("could not get Odoo 18.0:\n  " + "\n  ".join(errors))
    release: dict = {}
    exec((tree / "odoo" / "release.py").read_text(), release)  # Odoo's own release file
    if tuple(release["version_info"][:2]) != (18, 0):
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit(f"{where} holds Odoo {release['version']}, not 18.0")
    root = src / "odoo"
    if root.exists():
        shutil.rmtree(root)
    tree.rename(root)
    shutil.rmtree(work, ignore_errors=True)
    if not (root / "odoo-bin").exists():
        (root / "odoo-bin").write_text(ODOO_BIN)
        (root / "odoo-bin").chmod(0o755)

    constraints = src / "build-constraints.txt"
    constraints.write_text(CONSTRAINTS)
    # PIP_CONSTRAINT reaches the pip that fills each isolated build environment
    # too (pip < 25.3); newer pips read PIP_BUILD_CONSTRAINT for that.
    env = {
        **os.environ,
        "PIP_CONSTRAINT": str(constraints),
        "PIP_BUILD_CONSTRAINT": str(constraints),
    }
    python = str(venv / "bin" / "python")
    log("installing Odoo's requirements.txt (wheels are built once, then taken from pip's cache)")
    pip(python, "-r", str(root / "requirements.txt"), env=env)
    pip(python, "--no-deps", "-e", str(root), env=env)
    (src / "odoo.root").write_text(str(root))
    stamp.write_text(ident)
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", required=True, type=Path)
    args = parser.parse_args()
    root = install(
        args.venv.resolve(),
        os.environ.get("CMMS_ODOO_SOURCE") or None,
        os.environ.get("CMMS_ODOO_REF") or None,
    )
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
