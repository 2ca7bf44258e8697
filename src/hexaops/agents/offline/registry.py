"""The registry of intents, how a request picks one, and the capability list."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Final

from hexaops.agents.offline import render
from hexaops.agents.offline.intents import (
    Actions,
    Autoscale,
    Deploy,
    Events,
    HowTo,
    Intent,
    ListRead,
    LogSearch,
    Members,
    ProjectWrite,
    Recommend,
    Security,
    TopConsumers,
    TopErrors,
    Vulnerabilities,
    WhatIf,
    WorkloadWrite,
    WorkspaceCreate,
    WorkspaceDelete,
)
from hexaops.agents.offline.investigate import Investigate
from hexaops.agents.offline.steps import Answer, Situation, Step, ToolCalls

_CREATE = r"\b(create|add|new|spin up|set up|provision|make)\b"
_DELETE = r"\b(delete|remove|drop|tear down|destroy|decommission)\b"
_WHAT = r"^(what|which|how|why|is|are|does|do|did|show|list|tell)\b"
_APP = r"\b(app|application|service|deployment|workload)\b"

_APPLY = "reply **yes** to apply these settings to {target} (high-risk changes wait for approval)."

INTENTS: Final[list[Intent]] = [
    Investigate(
        "investigate", "Troubleshooting", "diagnose",
        ("what's wrong with checkout in acme-prod?", "why is payments failing?",
         "is anything broken in acme-staging?"),
        ((r"\bwhat'?s wrong\b|\bwhat is wrong\b|\bwhat went wrong\b", 5),
         (r"\bwhy (is|are|was|were|does|do|did|has|have)\b", 3),
         (r"\bkeeps? (restarting|crashing|failing|dying|getting killed)\b|\bnever start"
          r"|\b(won'?t|can'?t|cannot|doesn'?t|don'?t) start\b|\bevict\w*|\b(memory|disk) pressure\b",
          4),
         (r"\b(which|what) (app|application|service|deployment|workload|pod|node)s?\b.*"
          r"\b(affected|broken|failing|restarting|problems?)\b", 3),
         (r"\b(deal with|sort out|take care of|mitigate|remediate)\b", 3),
         (r"\bmaxed out\b|\bat (its |their |the )?(max|maximum|ceiling)\b", 6),
         (r"\b(fail\w*|broken|crash\w*|not working|unhealthy|erroring|flapping|oom\w*)\b", 3),
         (r"\bhow is\b.*\bdoing\b|\b(healthy|health)\b|\bis\b.*\b(ok|okay|fine|up)\?", 4),
         (r"\b(diagnos\w*|investigate|troubleshoot|debug|root cause|what happened)\b", 4),
         (r"\b(is|are) (anything|something|everything) (wrong|broken|ok|fine|healthy)\b", 4),
         (r"\bdown\b|\bslow\b|\bproblems?\b|\bissues?\b|\bincident\b|\bkill\w*", 3),
         (r"\b(fix|repair)\b", 3)),
        level="narrow",
    ),
    Intent(
        "workload_metrics", "Metrics", "metrics_workload",
        ("cpu and memory of checkout over the last 2 hours", "what's the p95 latency of frontend?",
         "error rate of payments since 15m"),
        ((r"\b(cpu|memory|mem|ram|latency|p95|p99|error rate|5xx|restarts?|throughput)\b", 3),
         (r"\b(metrics?|usage|utili[sz]ation|performance|load|traffic)\b", 3),
         (r"\bhow (much|busy|fast)\b", 1)),
        next_step="ask \"what's wrong with {target}?\" to have it diagnosed.",
    ),
    TopConsumers(
        "top_consumers", "Metrics", "metrics_top_consumers",
        ("top memory consumers in acme-prod", "which app uses the most cpu?"),
        ((r"\b(top|biggest|largest|heaviest|hungriest|ranking)\b", 3),
         (r"\b(uses?|using|eats?|consum\w*) the most\b|\bmost (cpu|memory)\b", 4),
         (r"\bconsumers?\b|\bhogs?\b", 3)),
    ),
    Intent(
        "compare_deploy", "Metrics", "metrics_compare",
        ("did the last deploy of checkout make things worse?",
         "compare checkout before and after the rollout"),
        ((r"\bcompare\b|\bbefore and after\b|\bbefore/after\b|\bregress\w*\b", 5),
         (r"\b(did|has) the (last |latest |recent )?(deploy\w*|release|rollout|change)\b", 5),
         (r"\b(worse|better|improve\w*)\b", 2)),
        level="workload",
        next_step="if it got worse, ask me to roll {target} back.",
    ),
    Intent(
        "log_summary", "Logs", "logs_summary",
        ("what do the logs of checkout say?", "summarize the logs of acme-prod in the last hour"),
        ((r"\blogs?\b", 4), (r"\b(summar\w*|say|says|saying|overview|show)\b", 1)),
    ),
    LogSearch(
        "log_search", "Logs", "logs_search",
        ('search the logs of checkout for "timeout"', "find log lines containing refused"),
        ((r"\blogs?\b|\blines?\b", 2),
         (r"\b(search|grep|find|look for|containing|contains|mentioning|matching)\b", 4),
         (r"\b(show|list|get|see|read)\b.*\berrors?\b", 4)),
    ),
    TopErrors(
        "top_errors", "Logs", "logs_top_errors",
        ("top errors today", "what are the most frequent errors in acme-prod?"),
        ((r"\b(top|most (frequent|common)|frequent|common|recurring)\b.*\berrors?\b", 6),
         (r"\berrors?\b.*\b(top|most|frequent|common)\b", 5),
         (r"\berrors?\b", 1)),
        next_step="ask \"what do the logs of <workload> say?\" for the lines around an error.",
    ),
    Events(
        "k8s_events", "Events", "k8s_events",
        ("warning events of checkout in acme-prod", "k8s events in acme-prod/shop"),
        ((r"\bevents?\b", 5), (r"\b(k8s|kubernetes|kubectl|warnings?)\b", 1)),
    ),
    Security(
        "config_scan", "Security", "security_config_scan",
        ("scan acme-prod for misconfigurations", "security check of project shop in acme-prod"),
        ((r"\b(security|secure|misconfig\w*|hardening|privileged|run as root|scan)\b", 4),
         (r"\bconfig(uration)? (scan|check|audit|issues?)\b", 3)),
        level="narrow",
    ),
    Vulnerabilities(
        "vulnerabilities", "Security", "security_vulnerabilities",
        ("which images have critical vulnerabilities?", "CVEs of checkout"),
        ((r"\b(vulnerab\w*|cves?|patch\w*|exploit\w*)\b", 6),),
    ),
    Recommend(
        "scaling_recommend", "Scaling", "scaling_recommend",
        ("how many replicas should checkout have?", "right-size frontend in acme-prod"),
        ((r"\b(recommend\w*|right-?siz\w*|sizing|over-?provisioned|under-?provisioned)\b", 5),
         (r"\bhow many (replicas|instances|pods)\b|\bshould\b.*\b(replicas|requests|limits)\b", 6),
         # "cannot scale far enough": the autoscaler's bounds are too tight, not a manual scale.
         (r"\b(can'?t|cannot|unable to|doesn'?t|does not|not) scale\b.*\benough\b"
          r"|\bscale (far|high) enough\b", 9)),
        level="workload",
        next_step=_APPLY,
    ),
    WhatIf(
        "scaling_whatif", "Scaling", "scaling_whatif",
        ("what if I scale checkout to 4 replicas?", "what would 1 GiB of memory do for payments?"),
        ((r"\bwhat if\b|\bwhat would happen\b|\bwhat-?if\b|\bwhat would\b", 7),
         (r"\b(bump|increase|raise|lower|reduce|decrease|set|change|give)\b.*"
          r"\b(memory|cpu|limits?|requests?)\b", 6)),
        next_step=_APPLY,
        level="workload",
    ),
    HowTo(
        "howto", "Knowledge", "knowledge_search",
        ("how do I expose an application?", "how to set up autoscaling"),
        # "how do I roll back …" asks for the procedure, not for a rollback: above any write.
        ((r"^(how (do|can|should|would) (i|we|you)|how to|what is the (best )?way)\b", 8),
         (r"\b(explain|documentation|docs|runbook|guide|best practice)\b", 4),
         (r"^what (is|are|does) (a |an |the )?[a-z-]+( mean)?\??$", 5),
         (r"\bmean\??$|\bmeaning of\b", 4)),
    ),
    Intent(
        "workspace_list", "Platform", "platform_workspaces",
        ("list my workspaces", "which workspaces do I have?"),
        ((r"\bworkspaces\b", 4), (rf"{_WHAT}|\b(list|show|my|all)\b", 1)),
    ),
    ListRead(
        "project_list", "Platform", "platform_projects",
        ("list projects in acme-prod", "what projects are in acme-staging?"),
        ((r"\bprojects\b|\bnamespaces\b", 4), (rf"{_WHAT}|\b(list|show|my|all)\b", 1)),
        level="workspace",
    ),
    ListRead(
        "workload_list", "Platform", "platform_workloads",
        ("what's running in acme-prod/shop?", "list the apps of project shop"),
        ((r"\b(apps|applications|workloads|services|deployments|functions)\b", 4),
         (r"\bwhat'?s running\b|\bwhat is running\b|\bwhat runs\b", 5),
         (rf"{_WHAT}|\b(list|show|all)\b", 1)),
        level="project",
    ),
    WorkspaceCreate(
        "workspace_create", "Platform changes", "platform_workspace_create",
        ("create a dedicated workspace named data-lab with 3 nodes",),
        ((_CREATE, 3), (r"\bworkspace\b", 3)), level="org", writes=True,
        requires=(_CREATE, r"\bworkspace\b"),
    ),
    WorkspaceDelete(
        "workspace_delete", "Platform changes", "platform_workspace_delete",
        ("delete workspace acme-staging",),
        ((_DELETE, 3), (r"\bworkspace\b", 3)), level="workspace", writes=True,
        requires=(_DELETE, r"\bworkspace\b"),
    ),
    ProjectWrite(
        "project_create", "Platform changes", "platform_project_create",
        ("create project payments in acme-prod with 2 cores and 4Gi",),
        ((_CREATE, 3), (r"\b(project|namespace)\b", 4)), level="workspace", writes=True,
        requires=(_CREATE, r"\b(project|namespace)\b"),
    ),
    ProjectWrite(
        "project_delete", "Platform changes", "platform_project_delete",
        ("delete project old-shop in acme-staging",),
        ((_DELETE, 3), (r"\b(project|namespace)\b", 4)), level="workspace", writes=True,
        requires=(_DELETE, r"\b(project|namespace)\b"),
    ),
    Deploy(
        "deploy", "Platform changes", "platform_application_deploy",
        ("deploy checkout 1.5.0 in acme-staging",
         "deploy ghcr.io/acme/api:1.0.0 as app api in acme-prod/shop"),
        ((r"^(please )?(deploy|release|ship|roll out|rollout|upgrade|update)\b", 6),
         (r"\b(deploy|release|ship|upgrade)\b", 2)),
        level="workload", writes=True,
    ),
    WorkloadWrite(
        "scale", "Platform changes", "platform_application_scale",
        ("scale checkout in acme-staging to 3 replicas",),
        ((r"\bscale\b|\bscaling\b", 4), (r"\breplicas?\b|\binstances?\b", 3),
         (r"\b(set|make|run|change|increase|decrease|reduce|bump)\b", 1)),
        level="workload", writes=True, requires=(r"\b(scale|replicas?|instances?)\b",),
    ),
    Autoscale(
        "autoscale", "Platform changes", "platform_application_set_hpa",
        ("autoscale checkout in acme-prod between 2 and 10 replicas",),
        ((r"\b(hpa|autoscal\w*|horizontal pod autoscaler)\b", 5),),
        level="workload", writes=True,
    ),
    WorkloadWrite(
        "restart", "Platform changes", "platform_application_restart",
        ("restart frontend in acme-prod",),
        ((r"\b(restart|bounce|reboot|cycle)\b", 6),), level="workload", writes=True,
    ),
    WorkloadWrite(
        "rollback", "Platform changes", "platform_application_rollback",
        ("roll back checkout in acme-prod", "revert payments to revision 2"),
        ((r"\broll ?back\b|\brollback\b|\brevert\b|\bundo the (last )?deploy\b", 7),),
        level="workload", writes=True,
    ),
    WorkloadWrite(
        "app_delete", "Platform changes", "platform_application_delete",
        ("delete app old-api in acme-staging/shop",),
        ((_DELETE, 3), (_APP, 3)), level="workload", writes=True, requires=(_DELETE,),
    ),
    Intent(
        "recent_changes", "Platform", "platform_recent_changes",
        ("what changed recently in acme-prod?", "who deployed what today?"),
        ((r"\bwhat (has |have )?changed\b|\brecent changes\b|\bchange ?log\b", 6),
         (r"\bwho (deployed|changed|scaled|restarted|deleted)\b", 6)),
        level="narrow",
    ),
    Members(
        "members", "Platform", "platform_members",
        ("who are the members of acme?",),
        ((r"\bmembers?\b|\bwho (has|have) access\b|\busers\b|\broles?\b", 5),),
    ),
    Actions(
        "actions", "Platform", "platform_actions",
        ("show pending actions", "status of action #12"),
        ((r"\bactions?\b", 3), (r"\bpending\b|\bapprovals?\b|\bawaiting\b", 3)),
    ),
]  # fmt: skip

HELP = (
    r"\b(help|what can you do|capabilit\w*|what do you (do|know)|who are you)\b|^(hello|hi|hey)\W*$"
)


YES = re.compile(
    r"^(yes|y|yeah|yep|sure|ok|okay|do it|go ahead|please do|proceed|confirm|run it|apply it)\b"
)


def confirms(s: Situation) -> bool:
    """Whether a reply accepts what our previous answer offered ("yes", "ok run it", "yes, go
    ahead and renew it"). A reply that starts with a yes but asks for something else about a
    named object ("ok, restart frontend") is a request of its own."""
    if not YES.search(s.slots.text):
        return False
    slots = s.slots
    named = slots.candidates or slots.workspace or slots.project or slots.target
    return not (named and choose(s) is not None)


def confirm(s: Situation, tool: str, args: dict[str, Any]) -> Step:
    """The user said yes to the write our previous answer offered: request it, then report."""
    done = s.turn.called(tool)
    if done:
        status = render.action_status(done[-1])
        return Answer(f"{status}\n\nSource: {render.source(done[-1], objects=False)}.")
    if not s.bound(tool):
        return Answer(
            f"I can't do that here: it needs `{tool}`, which is not available to me here."
        )
    return ToolCalls([(tool, args)])


def choose(s: Situation) -> Intent | None:
    """The best-scoring intent for the request (first in the registry on ties), or None."""
    text = s.slots.text
    best, best_score = None, 0
    for intent in INTENTS:
        score = intent.score(text)
        if score > best_score:
            best, best_score = intent, score
    return best if best_score >= 3 else None


def capabilities(s: Situation, lead: str) -> str:
    """What the bound tools let the planner do, grouped, with example phrasings."""
    groups: dict[str, list[str]] = defaultdict(list)
    for intent in INTENTS:
        if all(s.bound(t) for t in intent.tools()):
            groups[intent.group].extend(f'"{e}"' for e in intent.examples[:2])
    if not groups:
        return f"{lead} nothing — no tools were given to me here."
    lines = [lead, ""]
    for group, examples in groups.items():
        lines.append(f"- **{group}**: " + ", ".join(examples))
    lines.append("\nName the workspace (and project or application) when you can; I ask otherwise.")
    return "\n".join(lines)


def plan(s: Situation) -> Step:
    """The next step for the request: tool calls, a question, or the final answer."""
    if not s.slots.text:
        return Answer(capabilities(s, lead="Ask me about your platform. I can help with:"))
    if s.turn.proposal and confirms(s):
        return confirm(s, *s.turn.proposal)
    intent = choose(s)
    if intent is None and re.search(HELP, s.slots.text):  # "help me fix X" is a request
        return Answer(capabilities(s, lead="Here is what I can do:"))
    if intent is None:
        return Answer(
            capabilities(
                s, lead="I could not map that request to something I can do. I can help with:"
            )
        )
    return intent.plan(s)
