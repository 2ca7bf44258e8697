"""Embeddings: the shipped offline model, and an OpenAI-compatible provider (mocked transport)."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from hexaops.knowledge.embeddings import (
    DIMENSIONS,
    EmbeddingUnavailable,
    OpenAIEmbedder,
    embedder_from_settings,
    offline_embedder,
)
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings


def test_offline_model_is_shared_normalised_and_semantic() -> None:
    model = offline_embedder()
    assert offline_embedder() is model
    vectors = model.embed(
        [
            "the pod is restarting in a crash loop",
            "container keeps crashing and restarting",
            "quarterly sales figures",
        ]
    )
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    # Batches pad to the longest text: a text's vector does not depend on its neighbours.
    alone = model.embed(["the pod is restarting in a crash loop"])[0]
    assert float(alone @ vectors[0]) == pytest.approx(1, abs=1e-4)
    assert model.embed([]).shape == (0, DIMENSIONS)


def _provider(handler: httpx.MockTransport) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        "https://llm.example/v1/", "text-embedding-3-small", "sk-test", transport=handler
    )


def test_openai_compatible_provider_request_and_response() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        texts = json.loads(request.content)["input"]
        data = [
            {"index": i, "embedding": [float(i + 1)] * DIMENSIONS}
            for i in reversed(range(len(texts)))
        ]
        return httpx.Response(200, json={"data": data})

    vectors = _provider(httpx.MockTransport(answer)).embed(["a", "b"])
    request = seen[0]
    assert request.url == "https://llm.example/v1/embeddings"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert json.loads(request.content) == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "dimensions": DIMENSIONS,
    }
    assert vectors.shape == (2, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(500, text="boom"), "HTTP 500"),
        (httpx.Response(200, json={"nope": 1}), "unexpected body"),
        (
            httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0] * 8}]}),
            "384 dimensions",
        ),
    ],
)
def test_provider_failures_are_backend_errors(response: httpx.Response, message: str) -> None:
    provider = _provider(httpx.MockTransport(lambda _: response))
    with pytest.raises(EmbeddingUnavailable, match=message):
        provider.embed(["a"])


def test_unreachable_provider_and_missing_settings() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(EmbeddingUnavailable, match="unreachable"):
        _provider(httpx.MockTransport(refuse)).embed(["a"])
    with pytest.raises(ConfigurationError, match="HEXAOPS_EMBEDDINGS_BASE_URL"):
        embedder_from_settings(Settings(embeddings="openai"))
    assert embedder_from_settings(Settings()) is offline_embedder()
    configured = embedder_from_settings(
        Settings(
            embeddings="openai", embeddings_base_url="https://llm.example/v1", embeddings_model="m"
        )
    )
    assert configured.name == "openai:m"
