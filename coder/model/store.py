"""Saving and loading models: skops files (never pickle) plus a JSON manifest, versioned in a registry.

Layout of a model directory:
    registry.json                 {"current": "v2", "versions": [{version, created, data_hash, metrics, ...}]}
    versions/v1/model.skops       the fitted estimators
    versions/v1/manifest.json     model version, codebook hash, training-data hash, embedder, thresholds, metrics
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import skops.io as sio

from coder.codebook import Codebook
from coder.errors import InputError
from coder.files import atomic_path, write_json_atomic
from coder.model.safe_load import file_sha256, load_trusted


def codebook_hash(cb: Codebook) -> str:
    """Hash of what the model depends on (questions, codes, stances), not of the file's formatting."""
    from coder.model.classify import codebook_spec

    blob = json.dumps({"name": cb.name, "spec": codebook_spec(cb)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_registry(model_dir: str | Path) -> dict:
    p = Path(model_dir) / "registry.json"
    if not p.exists():
        return {"current": None, "versions": []}
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"registry is not valid JSON ({e.msg})", file=str(p), row=e.lineno) from None


def next_version(model_dir: str | Path) -> str:
    reg = read_registry(model_dir)
    nums = [int(v["version"][1:].split("-")[0]) for v in reg["versions"] if v["version"][1:].split("-")[0].isdigit()]
    return f"v{max(nums, default=0) + 1}"


def save_model(model_dir: str | Path, bundle: dict, manifest: dict, make_current: bool = True) -> Path:
    """Write a new version and record it in the registry (atomically: the registry is written last)."""
    model_dir = Path(model_dir)
    version = manifest["model_version"]
    vdir = model_dir / "versions" / version
    vdir.mkdir(parents=True, exist_ok=True)
    with atomic_path(vdir / "model.skops") as tmp:
        sio.dump(bundle, tmp)
    manifest["model_sha256"] = file_sha256(vdir / "model.skops")  # checked before every load
    write_json_atomic(vdir / "manifest.json", manifest)
    reg = read_registry(model_dir)
    reg["versions"] = [v for v in reg["versions"] if v["version"] != version]
    reg["versions"].append({k: manifest.get(k) for k in (
        "model_version", "created", "data_hash", "codebook", "codebook_hash", "embedder", "n_train", "metrics")}
        | {"version": version})
    if make_current or not reg.get("current"):
        reg["current"] = version
    write_json_atomic(model_dir / "registry.json", reg)
    return vdir


def set_current(model_dir: str | Path, version: str) -> None:
    reg = read_registry(model_dir)
    if version not in {v["version"] for v in reg["versions"]}:
        known = ", ".join(v["version"] for v in reg["versions"]) or "none"
        raise InputError(f"no model version {version!r} (versions: {known})",
                         file=str(Path(model_dir) / "registry.json"))
    reg["current"] = version
    write_json_atomic(Path(model_dir) / "registry.json", reg)


def version_dir(model_dir: str | Path, version: str | None = None) -> Path:
    model_dir = Path(model_dir)
    if (model_dir / "manifest.json").exists():  # a version directory given directly
        return model_dir
    reg = read_registry(model_dir)
    version = version or reg.get("current")
    if not version:
        raise InputError("no trained model here: run `coder train` first", file=str(model_dir))
    return model_dir / "versions" / version


def load_model(model_dir: str | Path, codebook: Codebook | None = None,
               version: str | None = None) -> tuple[dict, dict]:
    """Load (bundle, manifest); refuse a model made with another codebook, changed since it was saved, or holding
    any type outside coder's exact list (coder.model.safe_load)."""
    vdir = version_dir(model_dir, version)
    mpath, fpath = vdir / "manifest.json", vdir / "model.skops"
    if not mpath.exists() or not fpath.exists():
        raise InputError("model files missing (manifest.json, model.skops)", file=str(vdir))
    manifest = json.loads(mpath.read_text())
    if codebook is not None and manifest.get("codebook_hash") != codebook_hash(codebook):
        raise InputError(
            f"this model was trained with codebook {manifest.get('codebook')!r} "
            f"({manifest.get('codebook_hash', '')[:12]}), not with {codebook.name!r} ({codebook_hash(codebook)[:12]}): "
            "retrain it with this codebook, or pass the codebook it was made with (--codebook)",
            file=str(mpath), column="codebook_hash")
    bundle = load_trusted(fpath, manifest.get("model_sha256"))
    if not isinstance(bundle, dict) or not {"classifier", "calibrator", "oof"} <= set(bundle):
        raise InputError("model file does not hold a coder answer model", file=str(fpath))
    return bundle, manifest


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
