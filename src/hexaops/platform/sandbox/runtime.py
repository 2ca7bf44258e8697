"""The pods at run time: containers starting, serving, burning CPU, leaking, dying — per tick.

All pods of the sandbox are rows of numpy arrays, so one tick is a handful of vector operations
whatever the size of the cluster. Counters (CPU seconds, requests, histogram buckets, restarts)
survive between `advance` calls as per-pod state in `sandbox_workload_states`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.sandbox.effects import Effects, PodMode
from hexaops.platform.sandbox.load import TICK_SECONDS, Edges, LoadModel, propagate
from hexaops.platform.sandbox.topology import Topology

# Prometheus' default histogram buckets (seconds); +Inf is the request count.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CFS_PERIODS_PER_TICK = TICK_SECONDS * 10  # CFS period is 100 ms
IDLE_CORES = 0.004
LIVENESS_KILL_AFTER_TICKS = 3  # initialDelaySeconds 15 + 3 failures x 10 s
LEAK_BYTES_PER_TICK = 4 * 2**20
BACKOFF_RESET_TICKS = 40  # the kubelet forgets a crash after 10 minutes of running
EVICTION_EVERY_TICKS = 20
CALL_TIMEOUT_SECONDS = 5.0
FS_FULL_BYTES = 2**30  # emptyDir sizeLimit of the sandbox's pods

_COUNTERS = ("cpu_s", "throttled", "ok", "err", "lat_sum", "restarts")
_STATE = (*_COUNTERS, "leak", "backoff_until", "backoff_step", "up_since", "running", "fs")


@dataclass
class TickResult:
    running: NDArray[np.bool_]
    ready: NDArray[np.bool_]
    killed: NDArray[np.bool_]
    evicted: NDArray[np.bool_]
    memory: NDArray[np.float64]
    app_rps: NDArray[np.float64]
    app_latency: NDArray[np.float64]
    app_error: NDArray[np.float64]
    app_ready: NDArray[np.int64]
    app_utilization: NDArray[np.float64]  # mean CPU usage / request of ready pods
    dependency_errors: NDArray[np.float64]  # [A] share of own calls to dependencies that fail


class PodRuntime:
    """State and per-tick physics of every pod of one topology."""

    def __init__(
        self, topo: Topology, states: dict[tuple[str, str, str], dict[str, Any]], load: LoadModel
    ) -> None:
        self.topo, self.load = topo, load
        deps = topo.deployments
        node_index = {n.name: i for i, n in enumerate(topo.nodes)}
        self.pod_keys: list[tuple[int, dict[str, Any]]] = [
            (a, pod) for a, d in enumerate(deps) for pod in d.pods
        ]
        self.pod_app = np.array([a for a, _ in self.pod_keys], dtype=np.int64)
        self.pod_node = np.array(
            [node_index.get(str(p.get("node", "")), -1) for _, p in self.pod_keys], dtype=np.int64
        )
        self.scheduled = np.array(
            [p.get("phase") != "Pending" and bool(p.get("node")) for _, p in self.pod_keys],
            dtype=bool,
        )
        self.cpu_limit = np.array([d.spec.resources.cpu_limit_millis / 1000 for d in deps])
        self.cpu_request = np.array([d.spec.resources.cpu_request_millis / 1000 for d in deps])
        self.mem_limit = np.array([float(d.spec.resources.memory_limit_bytes) for d in deps])
        self.mem_base = np.array([0.55 * d.spec.resources.memory_request_bytes for d in deps])
        self.salt = (np.arange(len(self.pod_keys), dtype=np.int64) * 7) % EVICTION_EVERY_TICKS
        pods = len(self.pod_keys)
        self.state = {k: np.zeros(pods) for k in _STATE}
        self.buckets = np.zeros((pods, len(BUCKETS)))
        self.le = np.array(BUCKETS)
        for p, (a, pod) in enumerate(self.pod_keys):
            saved = states.get(deps[a].key, {}).get(pod["name"])
            if saved:
                for k in _STATE:
                    self.state[k][p] = float(saved.get(k, 0.0))
                self.buckets[p] = saved.get("buckets", [0.0] * len(BUCKETS))

    def pod_name(self, p: int) -> str:
        return str(self.pod_keys[p][1]["name"])

    def saved_states(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        out: dict[tuple[str, str, str], dict[str, Any]] = {d.key: {} for d in self.topo.deployments}
        for p, (a, pod) in enumerate(self.pod_keys):
            record: dict[str, Any] = {k: float(self.state[k][p]) for k in _STATE}
            record["buckets"] = self.buckets[p].tolist()
            out[self.topo.deployments[a].key][pod["name"]] = record
        return out

    def step(self, tick: int, fx: Effects, edges: Edges) -> TickResult:
        s, apps = self.state, self.cpu_limit.size
        mode = fx.pod_mode
        startable = self.scheduled & (mode != PodMode.IMAGE_PULL) & (mode != PodMode.QUOTA_PENDING)
        running = startable & (tick >= s["backoff_until"])
        s["up_since"] = np.where(running & (s["running"] == 0), tick, s["up_since"])
        up_for = tick - s["up_since"]
        node = np.maximum(self.pod_node, 0)
        pressure = (fx.node_memory_pressure | fx.node_disk_pressure)[node] & (self.pod_node >= 0)
        leaking = running & (mode == PodMode.LEAKING)
        s["leak"] = np.where(leaking, s["leak"] + LEAK_BYTES_PER_TICK, s["leak"])
        memory = np.where(running, self.mem_base[self.pod_app] + s["leak"], 0.0)
        killed = running & (
            (mode == PodMode.CRASH_AT_START)
            | ((mode == PodMode.LIVENESS_KILLED) & (up_for >= LIVENESS_KILL_AFTER_TICKS))
            | (leaking & (memory >= self.mem_limit[self.pod_app]))
        )
        evicted = running & ~killed & pressure & ((tick + self.salt) % EVICTION_EVERY_TICKS == 0)
        down = killed | evicted
        s["restarts"] += killed
        s["backoff_step"] = np.where(
            running & ~down & (up_for >= BACKOFF_RESET_TICKS), 0, s["backoff_step"] + killed
        )
        delay = np.minimum(np.ceil(10 * 2 ** np.maximum(s["backoff_step"] - 1, 0) / 15), 20)
        s["backoff_until"] = np.where(killed, tick + delay, s["backoff_until"])
        s["backoff_until"] = np.where(evicted, tick + 2, s["backoff_until"])
        s["leak"] = np.where(down, 0.0, s["leak"])
        running = running & ~down
        s["running"] = running.astype(float)
        ready = running  # readiness passes once the container is up (crashing ones are down)

        # Traffic: ingress, then callers' calls unless a NetworkPolicy or DNS stops them.
        delivered = (~fx.blocked[edges.dst] & ~fx.dns_broken[edges.src]).astype(float)
        rps = propagate(self.load.external_rps(tick), edges, delivered)
        app_ready = np.bincount(self.pod_app, weights=ready, minlength=apps).astype(np.int64)
        share = np.where(ready, 1.0 / np.maximum(app_ready, 1)[self.pod_app], 0.0)
        pod_rps = rps[self.pod_app] * share
        extra = fx.load_extra_cores[self.pod_app] * share
        demand = IDLE_CORES + pod_rps * self.load.cpu_per_request[self.pod_app] + extra
        limit = self.cpu_limit[self.pod_app]
        noisy = fx.noisy[self.pod_app]
        demand = np.where(noisy, limit, demand)
        cap = limit * np.where(noisy | (self.pod_node < 0), 1.0, fx.node_cpu_share[node])
        usage = np.where(running, np.minimum(demand, cap), 0.0)
        rho = np.where(ready, demand / cap, 0.0)
        s["cpu_s"] += usage * TICK_SECONDS
        s["throttled"] += np.where(
            running, CFS_PERIODS_PER_TICK * np.clip(demand / cap - 0.8, 0.0, 1.0), 0.0
        )

        # Latency and errors: queueing on CPU, then what the dependencies add.
        ready_w = np.maximum(app_ready, 1)
        app_rho = np.bincount(self.pod_app, weights=rho, minlength=apps) / ready_w
        util = np.bincount(self.pod_app, weights=usage * ready, minlength=apps) / ready_w
        queue = 1.0 / (1.0 - np.minimum(app_rho, 0.95)) * np.maximum(app_rho, 1.0)
        own_latency = self.load.base_latency * queue + fx.latency_add
        overload = np.clip((app_rho - 1.0) / np.maximum(app_rho, 1e-9), 0.0, 1.0)
        unavailable = (app_ready == 0).astype(float)
        own_error = np.clip(0.001 + fx.error_add + 0.5 * overload + 0.2 * fx.dns_broken, 0, 1)
        own_error = np.maximum(own_error, unavailable)
        latency, error = own_latency, own_error
        dep_error: NDArray[np.float64] = np.zeros(apps)
        if edges.src.size:
            weight = np.minimum(edges.fanout, 1.0)
            for _ in range(4):
                failed = np.where(delivered > 0, error[edges.dst], 1.0)
                slow = np.where(delivered > 0, latency[edges.dst], CALL_TIMEOUT_SECONDS)
                dep_error = np.bincount(edges.src, weights=weight * failed, minlength=apps).astype(
                    float
                )
                latency = own_latency + np.bincount(
                    edges.src, weights=weight * slow, minlength=apps
                )
                error = np.clip(own_error + 0.9 * dep_error, 0.0, 1.0)

        pod_error = np.clip(error[self.pod_app] + 0.5 * (mode == PodMode.DISK_FULL), 0.0, 1.0)
        requests = pod_rps * TICK_SECONDS
        s["ok"] += requests * (1.0 - pod_error)
        s["err"] += requests * pod_error
        pod_latency = latency[self.pod_app]
        s["lat_sum"] += requests * pod_latency
        self.buckets += requests[:, None] * (1.0 - np.exp(-self.le[None, :] / pod_latency[:, None]))
        s["fs"] = np.where(
            mode == PodMode.DISK_FULL, FS_FULL_BYTES, np.minimum(s["fs"] + 4096.0, 64 * 2**20)
        )
        return TickResult(
            running=running,
            ready=ready,
            killed=killed,
            evicted=evicted,
            memory=memory,
            app_rps=rps,
            app_latency=latency,
            app_error=error,
            app_ready=app_ready,
            app_utilization=util / self.cpu_request,
            dependency_errors=dep_error,
        )
