"""Sentence embeddings computed in-process by a small static model whose weights ship inside its
PyPI wheel (``wordllama``, 256 dimensions, 16 MB of weights), so nothing is downloaded at run time.

Why wordllama (measured in docs/intelligence.md): embedding a passage costs tens of microseconds
on one core, the model adds ~100 MB of resident memory, and it needs no PyTorch. The wheel's own
``WordLlama.load()`` looks for its tokenizer in a folder the wheel does not have (``tokenizer/``
instead of ``tokenizers/``) and then tries Hugging Face, so the two packaged files are loaded here
directly.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

DIMENSIONS: Final = 256
MODEL_ID: Final = "wordllama-0.4-l2_supercat-256"
"""Stored with every vector: a vector of another model is recomputed, never compared."""
_TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
_WEIGHTS = Path("weights") / "l2_supercat_256.safetensors"

Vectors = npt.NDArray[np.float32]


class Embedder:
    """Unit-length vectors for texts (thread-safe; loaded once per process on first use)."""

    dimensions = DIMENSIONS
    model_id = MODEL_ID

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import wordllama
                from safetensors import safe_open
                from wordllama.inference import WordLlamaInference
                from wordllama.wordllama import WordLlama

                root = Path(wordllama.__file__).parent
                tokenizer = WordLlama.load_tokenizer(root / _TOKENIZER)
                with safe_open(str(root / _WEIGHTS), framework="np", device="cpu") as weights:
                    table = weights.get_tensor("embedding.weight")
                self._model = WordLlamaInference(table, tokenizer)
            return self._model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One row per text, L2-normalised (cosine similarity is a dot product)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = self._load().embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32)


    def vectors_of(self, texts: Sequence[str], stored: Sequence[bytes | None], models: Sequence[str]) -> Vectors:
        """Vectors of ``texts``, taken from ``stored`` where this model made them, computed otherwise."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        missing = []
        for row, (blob, model) in enumerate(zip(stored, models, strict=True)):
            if blob is not None and model == MODEL_ID and len(blob) == DIMENSIONS * 4:
                out[row] = np.frombuffer(blob, dtype=np.float32)
            else:
                missing.append(row)
        if missing:
            out[missing] = self.embed([texts[i] for i in missing])
        return out


def to_blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


_SHARED = Embedder()


def shared_embedder() -> Embedder:
    """The process's one embedder (the weights are loaded once, ~100 MB)."""
    return _SHARED
