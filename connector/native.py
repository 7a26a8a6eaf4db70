"""Compiled twins of the connector's hottest modules (mypyc), and their build.

::

    python -m connector.native            # build the twins (an install step)
    python -m connector.native --check    # tell whether each twin is built and current

The anomaly engine (:mod:`connector.ml.online`) does a few dozen float
operations per signal and reading, twice per reading in the daemon (the
tag's univariate scorer and its machine's detector); interpreted, that is
most of the ingest worker's time. The same source file, compiled by
`mypyc <https://mypyc.readthedocs.io>`_ (part of mypy, which checks the
connector's annotations anyway), runs it about five times faster. There is
one formulation: the build compiles a copy of the module's own source,
under the name ``_<name>_native`` beside it, with the source's SHA-256
appended as ``BUILT_FROM``; the module, when imported, takes its classes
from the twin only when the twin was built from its current source
(:func:`compiled_twin`), and otherwise runs as it is (a log line says why).
So an edited module never runs stale compiled code, and a machine without a
C compiler runs the same code, slower. ``connector/tests/test_native.py``
checks that both give the same results.

The build needs mypy (``connector/requirements.txt``), setuptools, a C
compiler and the Python headers; ``./scripts/test`` and ``./scripts/up``
run it after installing the requirements.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

#: The modules that have a compiled twin.
MODULES: tuple[str, ...] = ("connector.ml.online", "connector.detect.anomaly")
#: Suffix of a twin's module name (``connector.ml._online_native``).
SUFFIX = "_native"
#: Set to ``0`` to run the interpreted modules even when twins are built.
ENV_OFF = "CMMS_NATIVE"
_ROOT = Path(__file__).resolve().parent.parent


def twin_name(module: str) -> str:
    """The module name of *module*'s compiled twin.

    >>> twin_name("connector.ml.online")
    'connector.ml._online_native'
    """
    package, _, name = module.rpartition(".")
    return f"{package}._{name}{SUFFIX}"


def source_digest(path: str | Path) -> str:
    """SHA-256 (hex) of a source file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _twin_state(module: str, source: str | Path) -> tuple[ModuleType | None, str]:
    """*module*'s compiled twin if importable, and ``compiled`` (built from
    *source* as it is now), ``stale`` or ``not built``."""
    try:
        twin = importlib.import_module(twin_name(module))
    except ImportError:
        return None, "not built"
    current = getattr(twin, "BUILT_FROM", None) == source_digest(source)
    return twin, "compiled" if current else "stale"


def compiled_twin(module: str, source: str | Path) -> ModuleType | None:
    """The compiled twin of *module* (whose source file is *source*) when it
    is built from that very source; else ``None``: not built, built from
    another version of the source (a log line says so), disabled by
    ``CMMS_NATIVE=0``, or *module* is itself a twin."""
    if module.endswith(SUFFIX) or os.environ.get(ENV_OFF, "1") == "0":
        return None
    twin, state = _twin_state(module, source)
    if state == "stale":
        log.warning(
            "%s: its compiled twin was built from another version of the source; "
            "running it interpreted (rebuild: python -m connector.native)",
            module,
        )
    return twin if state == "compiled" else None


def adopt(namespace: dict[str, Any], names: Sequence[str]) -> bool:
    """Replace *names* in a module's *namespace* (its ``globals()``) by its
    compiled twin's, when :func:`compiled_twin` finds a current one; return
    whether it did."""
    spec = namespace.get("__spec__")  # run as a script (python -m): its real name
    module = spec.name if spec is not None else namespace["__name__"]
    twin = compiled_twin(module, namespace["__file__"])
    if twin is None:
        return False
    for name in names:
        namespace[name] = getattr(twin, name)
    return True


def _module_file(module: str) -> Path:
    return _ROOT.joinpath(*module.split(".")).with_suffix(".py")


def _twin_files(module: str) -> list[Path]:
    """The built files of *module*'s twin (extension modules)."""
    path = _module_file(module)
    stem = f"_{path.stem}{SUFFIX}"
    return sorted(p for p in path.parent.glob(f"{stem}*") if p.suffix in (".so", ".pyd"))


def build(modules: Sequence[str] = MODULES) -> list[Path]:
    """Compile the twins of *modules* next to their sources; return the files.

    Each twin is compiled on its own (its extension module and mypyc's
    runtime library for it, both beside the source) from a copy of its
    module's source with ``BUILT_FROM`` appended, written beside the module
    for the build and removed after it. Raises an exception if mypyc or the
    C compiler fails.
    """
    built: list[Path] = []
    for module in modules:
        _build_one(module)
        built.extend(_twin_files(module))
    return built


def _build_one(module: str) -> None:
    from mypyc.build import mypycify  # the build's own dependency (mypy)
    from setuptools import Distribution

    source = _module_file(module)
    for old in _twin_files(module):
        old.unlink()
    copy = source.with_name(f"_{source.stem}{SUFFIX}.py")
    text = source.read_text(encoding="utf-8")
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="cmms-native-") as tmp:
        try:
            copy.write_text(
                text + f"\n\nBUILT_FROM = {source_digest(source)!r}\n", encoding="utf-8"
            )
            os.chdir(_ROOT)  # the module's name follows from its path
            extensions = mypycify(
                [str(copy.relative_to(_ROOT))],
                opt_level="3",
                target_dir=os.path.join(tmp, "mypyc"),
                verbose=False,
            )
            dist = Distribution({"name": "cmms-native", "ext_modules": extensions})
            cmd = dist.get_command_obj("build_ext")
            cmd.inplace = True
            cmd.build_temp = os.path.join(tmp, "temp")
            cmd.build_lib = os.path.join(tmp, "lib")
            cmd.ensure_finalized()
            cmd.run()
        finally:
            os.chdir(cwd)
            copy.unlink(missing_ok=True)


def status(modules: Sequence[str] = MODULES) -> list[tuple[str, str]]:
    """``(module, state)`` for each module: ``compiled``, ``stale`` or ``not built``."""
    return [(module, _twin_state(module, _module_file(module))[1]) for module in modules]


def describe(modules: Sequence[str] = MODULES) -> str:
    """One line for the connector's log: whether *modules* run compiled."""
    if os.environ.get(ENV_OFF, "1") == "0":
        return f"interpreted ({ENV_OFF}=0)"
    states = status(modules)
    if all(state == "compiled" for _, state in states):
        return "compiled (" + ", ".join(modules) + ")"
    return (
        "interpreted where no current compiled twin is built ("
        + ", ".join(f"{module}: {state}" for module, state in states)
        + "; python -m connector.native builds them)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module's description)."""
    parser = argparse.ArgumentParser(prog="python -m connector.native", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="only tell whether each twin is built from the current source (exit 1 if not)",
    )
    args = parser.parse_args(argv)
    if not args.check:
        try:
            files = build()
        except Exception as exc:
            print(
                f"compiled twins not built ({type(exc).__name__}: {exc}); the connector "
                "runs its modules interpreted",
                file=sys.stderr,
            )
            return 1
        for path in files:
            print(f"built {path.relative_to(_ROOT)}")
    states = status()
    for module, state in states:
        print(f"{module}: {state}")
    return 0 if all(state == "compiled" for _, state in states) else 1


if __name__ == "__main__":
    sys.exit(main())
