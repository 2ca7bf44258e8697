"""The Prometheus backend: the metrics questions as PromQL, through prometheus-api-client."""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime
from typing import Any, Final

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from hexaops.platform.errors import InvalidInput
from hexaops.tools.contract import BackendUnavailable
from hexaops.tools.metrics.backend import (
    PodUsage,
    RawResult,
    Resource,
    Sampled,
    Signal,
    Steps,
    Usage,
    finite,
)
from hexaops.tools.metrics.queries import signal_query, usage_queries
from hexaops.tools.metrics.workloads import Scope

_ERROR_TEXT: Final = re.compile(r"\((b'.*'|b\".*\")\)$", re.DOTALL)


class PrometheusBackend:
    name = "prometheus"

    def __init__(self, url: str, timeout_seconds: float) -> None:
        self.url = url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        # No retries: a down Prometheus must fail within one timeout, not after backoffs.
        self.client = PrometheusConnect(
            url=self.url,
            retry=Retry(total=0, read=False, raise_on_status=False),
            timeout=timeout_seconds,
        )

    def close(self) -> None:
        self.client.close()

    # -- queries ---------------------------------------------------------------------------

    def _call(self, query: str, start: datetime | None, end: datetime, step: int) -> Any:
        # Prometheus abandons the evaluation itself when the client would stop waiting.
        limit = {"timeout": f"{self.timeout_seconds:g}s"}
        try:
            if start is None:
                return self.client.custom_query(query, params={"time": end.timestamp(), **limit})
            return self.client.custom_query_range(
                query, start_time=start, end_time=end, step=f"{step}s", params=limit
            )
        except PrometheusApiClientException as exc:
            text = str(exc)
            if "Status Code 400" in text or "Status Code 422" in text:
                raise InvalidInput(f"Prometheus refused the query: {_error_text(text)}") from None
            raise BackendUnavailable(
                f"Prometheus at {self.url} answered with an error ({text[:200]}); "
                "check the server, or narrow the window"
            ) from None
        except requests.Timeout:
            raise BackendUnavailable(
                f"Prometheus at {self.url} did not answer within the timeout: narrow the "
                "window or the scope, or check the server (HEXAOPS_PROMETHEUS_URL)"
            ) from None
        except requests.RequestException as exc:
            raise BackendUnavailable(
                f"cannot reach Prometheus at {self.url} ({type(exc).__name__}): check that it "
                "runs and that HEXAOPS_PROMETHEUS_URL is right"
            ) from None

    def signal(self, scope: Scope, signal: Signal, steps: Steps) -> Sampled:
        query = signal_query(scope, signal, steps.seconds)
        result = self._call(query, steps.first, steps.end, steps.seconds)
        points: list[tuple[datetime, float]] = []
        for series in result[:1]:  # every signal query aggregates to one series
            for ts, raw in series["values"]:
                value = finite(raw)
                if value is not None:
                    points.append((datetime.fromtimestamp(float(ts), UTC), value))
        return Sampled(signal, points, query)

    def usage(self, scope: Scope, resource: Resource, start: datetime, end: datetime) -> Usage:
        seconds = round((end - start).total_seconds())
        queries = usage_queries(scope, resource, seconds)
        found: dict[tuple[str, str, str], PodUsage] = {}
        for i, query in enumerate(queries):
            for series in self._call(query, None, end, seconds):
                labels = series["metric"]
                key = (labels.get("workspace", ""), labels.get("namespace", ""), labels["pod"])
                value = finite(series["value"][1])
                if value is None:
                    continue
                if i == 0:
                    found[key] = PodUsage(*key, average=value)
                elif key in found:
                    found[key].peak = value
        return Usage(resource, list(found.values()), queries)

    def promql(
        self, query: str, start: datetime | None, end: datetime, step_seconds: int
    ) -> RawResult:
        result = self._call(query, start, end, step_seconds)
        series: list[tuple[dict[str, str], list[tuple[datetime, float]]]] = []
        if result and not isinstance(result[0], dict):  # a scalar or string: [ts, value]
            result = [{"metric": {}, "value": result}]
        for item in result:
            pairs = item.get("values") or ([item["value"]] if "value" in item else [])
            points = [(datetime.fromtimestamp(float(ts), UTC), float(raw)) for ts, raw in pairs]
            series.append((dict(item.get("metric", {})), points))
        return RawResult(series, query)


def _error_text(message: str) -> str:
    """Prometheus' own error message out of the client's exception text, which holds the
    response body as a bytes repr."""
    match = _ERROR_TEXT.search(message)
    if match:
        try:
            body = ast.literal_eval(match[1])
            return str(json.loads(body).get("error", message))
        except (ValueError, SyntaxError, AttributeError):
            pass
    return message
