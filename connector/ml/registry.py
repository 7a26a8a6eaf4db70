"""Versioned model files: register, list, activate (roll back), load.

A registry is a folder with one sub-folder per tag (the tag percent-encoded
so any tag is a safe name)::

    models/
      PT-101/
        1.joblib   1.json     # model, metadata of version 1
        2.joblib   2.json
        ACTIVE                # "2": the version in use

Versions are whole numbers counting up per tag; a version's files are never
changed or removed, so an older version can be activated again at any time
(a rollback). The metadata holds what Odoo's ``model_version`` item carries
(``docs/contracts.md``): tag, version, trained_at, trained_by, windows_used,
contamination, feature_set_version, metrics; plus the model kind, its
parameters, the library versions and the file name.

Model files are joblib pickles: loading one runs code from it, so load only
from a registry folder that the connector's own user writes.

>>> import tempfile
>>> reg = ModelRegistry(tempfile.mkdtemp())
>>> v1 = reg.register("PT-101", {"any": "object"}, trained_by="admin", trained_at=0.0)
>>> v2 = reg.register("PT-101", {"any": "other"}, trained_by="admin", trained_at=60.0)
>>> reg.active_version("PT-101"), [v.version for v in reg.versions("PT-101")]
('2', ['1', '2'])
>>> reg.activate("PT-101", "1").active, reg.load("PT-101")
(True, {'any': 'object'})
>>> model_version_item(reg.get("PT-101", "1"), now=120.0).data["active"]
True
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import joblib

from ..push.items import OutboxItem, make_key
from ..util import iso_utc

MODEL_VERSION = "model_version"
ACTIVE_FILE = "ACTIVE"
#: Where models live unless ``--models`` or ``CMMS_MODELS_DIR`` says otherwise.
DEFAULT_MODELS_DIR = "models"


def models_dir(path: str | Path | None = None) -> Path:
    """*path*, else ``$CMMS_MODELS_DIR``, else ``./models``."""
    return Path(path or os.environ.get("CMMS_MODELS_DIR") or DEFAULT_MODELS_DIR)


class RegistryError(Exception):
    """A tag or version the registry does not have, or a registry it cannot write."""


@dataclass
class ModelVersion:
    """Metadata of one registered model version.

    Attributes
    ----------
    tag, version : str
    trained_at : str
        ISO 8601 UTC.
    trained_by : str
    windows_used : int
        Training windows (rows, for a regression model).
    contamination : float or None
    feature_set_version : str
    metrics : dict
        Plain finite JSON numbers and strings.
    kind : str
        ``isolation_forest``, ``duration_rf`` ...
    params : dict
        The model's constructor parameters.
    file : str
        The model file's name within the tag's folder.
    libraries : dict
        Versions of python, scikit-learn, numpy at training time.
    active : bool
        Whether this is the tag's active version (read from ``ACTIVE``).
    path : str
        Full path of the model file (not stored).
    """

    tag: str
    version: str
    trained_at: str
    trained_by: str = ""
    windows_used: int = 0
    contamination: float | None = None
    feature_set_version: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    file: str = ""
    libraries: dict[str, str] = field(default_factory=dict)
    active: bool = False
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        """The stored metadata (without ``active`` and ``path``)."""
        data = asdict(self)
        data.pop("active")
        data.pop("path")
        return data

    def item_data(self, active: bool | None = None) -> dict[str, Any]:
        """The ``data`` of a ``model_version`` ingest item.

        ``active`` defaults to the version's own state. Empty optional
        fields are left out.
        """
        data: dict[str, Any] = {
            "tag": self.tag,
            "version": self.version,
            "trained_at": self.trained_at,
            "trained_by": self.trained_by or None,
            "windows_used": int(self.windows_used),
            "contamination": self.contamination,
            "feature_set_version": self.feature_set_version or None,
            "metrics": _finite(self.metrics),
            "active": self.active if active is None else active,
        }
        return {k: v for k, v in data.items() if v is not None}


def _finite(value: Any) -> Any:
    """Replace non-finite floats (not valid JSON for Odoo) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def model_version_item(
    meta: ModelVersion, now: float | None = None, active: bool | None = None
) -> OutboxItem:
    """The ``model_version`` outbox item announcing *meta* (or its activation).

    The key names the tag, the version, the activation state and the time,
    so announcing the same version again later (a rollback to it) is a new
    item, while a retried push of the same announcement is a duplicate.
    """
    now = time.time() if now is None else now
    data = meta.item_data(active)
    state = "active" if data.get("active") else "inactive"
    ts = iso_utc(now)
    return OutboxItem(
        key=make_key(MODEL_VERSION, meta.tag, meta.version, state, ts),
        type=MODEL_VERSION,
        ts=ts,
        data=data,
    )


def _libraries() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("sklearn", "numpy", "joblib"):
        try:
            module = __import__(name)
        except ImportError:  # pragma: no cover
            continue
        out["scikit-learn" if name == "sklearn" else name] = str(module.__version__)
    return out


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ModelRegistry:
    """A folder of versioned models (see the module docstring).

    Parameters
    ----------
    root : str or Path
        The registry folder (created on the first registration).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _dir(self, tag: str) -> Path:
        if not isinstance(tag, str) or not tag.strip():
            raise RegistryError("a tag is a non-empty string")
        name = quote(tag, safe="-_")
        return self.root / name

    def tags(self) -> list[str]:
        """Tags with at least one version."""
        if not self.root.is_dir():
            return []
        tags = set()
        for meta in self.root.glob("*/*.json"):
            try:
                tags.add(json.loads(meta.read_text(encoding="utf-8"))["tag"])
            except (OSError, ValueError, KeyError):
                continue
        return sorted(tags)

    def active_version(self, tag: str) -> str | None:
        """The tag's active version, or None."""
        try:
            text = (self._dir(tag) / ACTIVE_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def _read(self, tag: str, path: Path, active: str | None) -> ModelVersion:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # being written, or damaged
            raise RegistryError(f"cannot read {path}: {exc}") from None
        fields_ = {k: v for k, v in data.items() if k in ModelVersion.__dataclass_fields__}
        meta = ModelVersion(**fields_)
        meta.active = meta.version == active
        meta.path = str(path.with_name(meta.file))
        return meta

    def versions(self, tag: str) -> list[ModelVersion]:
        """All versions of *tag*, oldest first."""
        folder = self._dir(tag)
        if not folder.is_dir():
            return []
        active = self.active_version(tag)
        metas = []
        for path in folder.glob("*.json"):
            if path.stem.isdigit():
                try:
                    metas.append(self._read(tag, path, active))
                except RegistryError:  # a registration in progress
                    continue
        return sorted(metas, key=lambda m: int(m.version))

    def get(self, tag: str, version: str | int | None = None) -> ModelVersion:
        """Metadata of *version* of *tag* (the active one by default).

        Raises
        ------
        RegistryError
            When there is no such version (or no active one).
        """
        if version is None:
            version = self.active_version(tag)
            if version is None:
                raise RegistryError(f"no active model for {tag!r} in {self.root}")
        version = str(version).strip()
        path = self._dir(tag) / f"{version}.json"
        if not version.isdigit() or not path.is_file():
            known = ", ".join(m.version for m in self.versions(tag)) or "none"
            raise RegistryError(f"{tag!r} has no model version {version!r} (versions: {known})")
        return self._read(tag, path, self.active_version(tag))

    def load(self, tag: str, version: str | int | None = None) -> Any:
        """The model object of *version* of *tag* (the active one by default)."""
        meta = self.get(tag, version)
        try:
            return joblib.load(meta.path)
        except FileNotFoundError:
            raise RegistryError(f"model file {meta.path} is missing") from None

    def register(
        self,
        tag: str,
        model: Any,
        *,
        trained_by: str = "",
        trained_at: float | None = None,
        windows_used: int = 0,
        contamination: float | None = None,
        feature_set_version: str = "",
        metrics: dict[str, Any] | None = None,
        kind: str = "",
        params: dict[str, Any] | None = None,
        activate: bool = True,
    ) -> ModelVersion:
        """Save *model* as the next version of *tag*; activate it by default.

        The version number is claimed by creating its metadata file
        exclusively, so two trainings at once get different versions.
        """
        folder = self._dir(tag)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"cannot create {folder}: {exc}") from None
        trained = iso_utc(float(round(time.time() if trained_at is None else trained_at)))
        while True:
            existing = [int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()]
            version = str(max(existing, default=0) + 1)
            meta_path = folder / f"{version}.json"
            try:
                claim = meta_path.open("x", encoding="utf-8")
            except FileExistsError:
                continue
            break
        meta = ModelVersion(
            tag=tag,
            version=version,
            trained_at=trained,
            trained_by=trained_by,
            windows_used=int(windows_used),
            contamination=contamination,
            feature_set_version=feature_set_version,
            metrics=_finite(dict(metrics or {})),
            kind=kind,
            params=_finite(dict(params or {})),
            file=f"{version}.joblib",
            libraries=_libraries(),
        )
        model_path = folder / meta.file
        try:
            tmp = model_path.with_name(f".{model_path.name}.tmp")
            joblib.dump(model, tmp)
            os.replace(tmp, model_path)
            with claim:
                claim.write(json.dumps(meta.to_json(), indent=2, sort_keys=True) + "\n")
        except Exception:
            claim.close()
            meta_path.unlink(missing_ok=True)
            raise
        meta.path = str(model_path)
        if activate:
            return self.activate(tag, version)
        return meta

    def activate(self, tag: str, version: str | int) -> ModelVersion:
        """Make *version* the active one (a rollback when it is older)."""
        meta = self.get(tag, version)
        _write_atomic(self._dir(tag) / ACTIVE_FILE, meta.version + "\n")
        meta.active = True
        return meta
