"""The one way coder opens a model file: checksum first, then an exact list of types, then skops.

A model folder is something analysts are handed by colleagues, so opening it must be as safe as opening a
CSV. skops never unpickles, but it can still construct any type the caller trusts; coder trusts exactly
the types its own models hold (its estimators, the scikit-learn estimators inside them, numpy arrays and
plain containers). Every node of the file's schema is checked against that list *before* skops builds
anything, so a file naming `builtins.exec`, `sklearn.tree._tree.Tree` or anything else is refused with one
line naming the type and the file.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from types import ModuleType

from coder.errors import InputError

# module.qualname of every type coder's answer and document models hold (see CodeClassifier,
# ConfidenceCalibrator, DocumentCoder.state); nothing else is ever constructed.
TRUSTED_TYPES = frozenset({
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.NoneType",
    "numpy.ndarray", "numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32", "numpy.bool_",
    "numpy.bool", "numpy.str_", "numpy.dtype",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.isotonic.IsotonicRegression",
    "coder.model.classify.CodeClassifier",
    "coder.model.calibrate.ConfidenceCalibrator",
    "coder.model.novelty.NoveltyModel",
    "coder.model.short.ShortStanceModel",
    "numpy.float16",
})
# the kinds of skops node those types are stored as (functions, methods, reduce-calls... are never needed)
TRUSTED_LOADERS = frozenset({"DictNode", "ListNode", "TupleNode", "JsonNode", "NdArrayNode", "ObjectNode",
                             "TypeNode"})


def skops_io() -> ModuleType:
    """`skops.io`, imported without the walk over every scikit-learn module its default trust list makes.

    skops builds that list at import time with `sklearn.utils.all_estimators()`, which imports all of
    scikit-learn: 2-5 s on every `coder` command that opens or saves a model. coder never uses the
    default list (it checks each file against `TRUSTED_TYPES` and passes exactly those types), so the
    walk is skipped: while skops is first imported, `all_estimators` answers with no estimators.
    """
    import sys

    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    import sklearn.utils

    walk = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = lambda *args, **kwargs: []
    try:
        import skops.io
    finally:
        sklearn.utils.all_estimators = walk
    return skops.io


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def schema_types(path: str | Path) -> list[str]:
    """Every type (module.name) and node kind a skops file names, read from its schema without loading it."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            schema = json.loads(z.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError):
        raise InputError("not a readable model file (empty, truncated or not a skops file)", file=str(path)) from None
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "__loader__" in node or "__class__" in node:
                found.append(f"{node.get('__module__')}.{node.get('__class__')}")
                loader = node.get("__loader__")
                if loader not in TRUSTED_LOADERS:
                    found.append(f"skops node {loader}")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    return found


def load_trusted(path: str | Path, sha256: str | None) -> object:
    """Load a skops model file whose sha256 matches the manifest's and which holds only trusted types.

    Raises InputError (one line, naming the file and the first untrusted type) otherwise.
    """
    sio = skops_io()
    path = Path(path)
    if not path.is_file():
        raise InputError("model file missing", file=str(path))
    if not sha256:
        raise InputError("the manifest records no model_sha256 (made by an older coder?): retrain the model",
                         file=str(path))
    if file_sha256(path) != sha256:
        raise InputError("model file does not match the sha256 in its manifest (modified or half-written)",
                         file=str(path))
    untrusted = sorted({t for t in schema_types(path) if t not in TRUSTED_TYPES})
    if untrusted:
        raise InputError(f"model file holds type {untrusted[0]}, which coder does not load"
                         + (f" (and {len(untrusted) - 1} more)" if len(untrusted) > 1 else ""), file=str(path))
    try:
        flagged = sio.get_untrusted_types(file=path)
        return sio.load(path, trusted=[t for t in flagged if t in TRUSTED_TYPES])
    except Exception as e:  # a file that passed the checks but skops cannot rebuild: still one line
        raise InputError(f"model file cannot be loaded ({type(e).__name__}: {e})".splitlines()[0],
                         file=str(path)) from None
