"""Saving and loading models: skops files (never pickle) plus a JSON manifest, versioned in a registry.

Layout of a model directory:
    registry.json                 {"current": "v2", "versions": [{version, created, data_hash, metrics, ...}]}
    versions/v1/model.skops       the fitted estimators
    versions/v1/manifest.json     model version, codebook hash, training-data hash, embedder, thresholds, metrics
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from coder.codebook import Codebook
from coder.errors import InputError
from coder.files import staged_dir, write_json_atomic
from coder.model.safe_load import file_sha256, load_trusted, skops_io


def codebook_hash(cb: Codebook) -> str:
    """Hash of what the model depends on (questions, codes, stances), not of the file's formatting."""
    from coder.model.classify import codebook_spec

    blob = json.dumps({"name": cb.name, "spec": codebook_spec(cb)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


VERSION_NAME = re.compile(r"v\d+(-[0-9a-f]+)?")


def read_json_object(p: Path, what: str) -> dict:
    """A JSON object from a file coder wrote (registry, manifest); anything else is named, never trusted."""
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{what} is not valid JSON ({e.msg})", file=str(p), row=e.lineno) from None
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text", file=str(p)) from None
    except IsADirectoryError:
        raise InputError(f"{what} is a folder, not a file", file=str(p)) from None
    if not isinstance(data, dict):
        raise InputError(f"{what} is not a JSON object", file=str(p))
    return data


MANIFEST_TYPES = {"model_version": str, "embedder": str, "threshold_method": str, "codebook_hash": str,
                  "target_precision": int | float, "thresholds": dict, "guarantee": dict}


def check_manifest(manifest: dict, path: Path) -> dict:
    """The fields a model is used through have the types coder wrote (a hand edit is named, not a traceback)."""
    for key, kind in MANIFEST_TYPES.items():
        value = manifest.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise InputError(f"{key} is {value!r}, not what coder writes there (was the manifest edited by hand?)",
                             file=str(path), column=key)
    bad = [q for q, t in (manifest.get("thresholds") or {}).items()
           if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 1.01]
    if bad:  # 1.01 (route.NEVER): no confidence reaches it, everything goes to review
        raise InputError(f"threshold of question {bad[0]} is not a number in 0..1.01", file=str(path),
                         column="thresholds")
    return manifest


def read_registry(model_dir: str | Path) -> dict:
    """registry.json, checked: versions are plain names (`v3`, `v3-1a2b`), so none can point outside."""
    model_dir = Path(model_dir)
    if model_dir.exists() and not model_dir.is_dir():
        raise InputError("--model-dir is a file, not a folder", file=str(model_dir))
    p = model_dir / "registry.json"
    if not p.exists():
        return {"current": None, "versions": []}
    reg = read_json_object(p, "registry")
    versions = reg.get("versions", [])
    if not isinstance(versions, list) or not all(
            isinstance(v, dict) and isinstance(v.get("version"), str) and VERSION_NAME.fullmatch(v["version"])
            for v in versions):
        raise InputError("registry versions must be a list of {version: 'vN', ...}", file=str(p),
                         column="versions")
    current = reg.get("current")
    if current is not None and not (isinstance(current, str) and VERSION_NAME.fullmatch(current)):
        raise InputError(f"registry current {current!r} is not a model version name", file=str(p),
                         column="current")
    reg["versions"] = versions
    return reg


def next_version(model_dir: str | Path) -> str:
    reg = read_registry(model_dir)
    nums = [int(v["version"][1:].split("-")[0]) for v in reg["versions"] if v["version"][1:].split("-")[0].isdigit()]
    return f"v{max(nums, default=0) + 1}"


def save_model(model_dir: str | Path, bundle: dict, manifest: dict, make_current: bool = True) -> Path:
    """Write a new version and record it in the registry (atomically: the registry is written last)."""
    model_dir = Path(model_dir)
    version = manifest["model_version"]
    vdir = model_dir / "versions" / version
    reg = read_registry(model_dir)
    # the version folder is built aside and swapped in whole: a failure leaves no half version behind
    with staged_dir(vdir) as stage:
        skops_io().dump(bundle, stage / "model.skops")
        manifest["model_sha256"] = file_sha256(stage / "model.skops")  # checked before every load
        write_json_atomic(stage / "manifest.json", manifest)
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
    if not VERSION_NAME.fullmatch(str(version)):
        raise InputError(f"{version!r} is not a model version name", file=str(model_dir))
    return model_dir / "versions" / version


def load_model(model_dir: str | Path, codebook: Codebook | None = None,
               version: str | None = None) -> tuple[dict, dict]:
    """Load (bundle, manifest); refuse a model made with another codebook, changed since it was saved, or holding
    any type outside coder's exact list (coder.model.safe_load)."""
    vdir = version_dir(model_dir, version)
    mpath, fpath = vdir / "manifest.json", vdir / "model.skops"
    if not mpath.exists() or not fpath.exists():
        raise InputError("model files missing (manifest.json, model.skops)", file=str(vdir))
    manifest = check_manifest(read_json_object(mpath, "manifest"), mpath)
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
