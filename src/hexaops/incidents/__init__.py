"""Automated incident remediation: alerts → incident → investigation → policy-bounded fix →
verified recovery → incident memory (issue 7).

`intake` turns Alertmanager alerts into incidents (dedupe, grouping, flapping, resolve);
`workflow` runs one incident's remediation graph (checkpointed, exactly once);
`investigation` ranks hypotheses from tools and telemetry; `remediation` plans typed platform
actions; `policies` bound what runs without a person; `verification` watches for recovery;
`postmortem` writes the record.
"""
