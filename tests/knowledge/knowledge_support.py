"""Small documents and helpers shared by the knowledge tests (the real corpus is not needed)."""

from __future__ import annotations

from pathlib import Path

from hexaops.knowledge.embeddings import OfflineEmbedder, offline_embedder

CRASHLOOP = """---
title: Pods in CrashLoopBackOff
topic: kubernetes
tags: [pods, crashloop]
---
# Pods in CrashLoopBackOff

A pod whose container exits soon after it starts is restarted by the kubelet with an
exponential back-off; `kubectl get pods` then shows the status CrashLoopBackOff.

## Diagnose

Read the logs of the previous container with `kubectl logs --previous`.
Check the exit code in `kubectl describe pod`: 137 means the container was OOMKilled.

## Mitigate

Roll back to the last working revision, or raise the memory limit when the exit code is 137.
"""

CERTS = """---
title: Expired TLS certificates
topic: security
tags: [tls]
---
# Expired TLS certificates

## Symptoms

Clients fail the handshake with x509: certificate has expired or is not yet valid.

## Renew

Renew the certificate with cert-manager: `cmctl renew` on the Certificate object.
"""

QUOTA = """---
title: Workspace quotas
topic: platform
tags: [quota]
---
# Workspace quotas

A workspace has a CPU and memory quota from its plan. A project can be allocated part of it.

## Raising a quota

Ask an owner to change the workspace plan; the new quota applies at once.
"""

ACME_SECRET = """---
title: Acme payment gateway runbook
topic: payments
tags: [acme]
---
# Acme payment gateway runbook

## Rotate the gateway key

The acme payment gateway key lives in the vault path acme/payments/zebra-key.
"""

GLOBEX_SECRET = """---
title: Globex ledger runbook
topic: payments
tags: [globex]
---
# Globex ledger runbook

## Restart the ledger

The globex ledger daemon is restarted with the walrus procedure on host ledger-7.
"""


def embedder() -> OfflineEmbedder:
    return offline_embedder()


def write_docs(root: Path, docs: dict[str, str]) -> Path:
    for rel, content in docs.items():
        file = root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(content)
    return root


def public_docs(root: Path) -> Path:
    return write_docs(
        root,
        {
            "kubernetes/crashloop.md": CRASHLOOP,
            "security/certs.md": CERTS,
            "platform/quota.md": QUOTA,
        },
    )
