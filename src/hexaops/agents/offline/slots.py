"""Slot extraction: the values a request carries (names, time window, quantities), from its words.

Everything here is pure text processing of the *user's* request. Names are only candidates until
the planner has checked them against what the platform reads return (see `scope.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

_NAME: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DNS1123: Final = re.compile(rf"^{_NAME}$")

_UNITS: Final = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d", "w": "w", "week": "w", "weeks": "w",
}  # fmt: skip
_UNIT_WORDS: Final = "|".join(sorted(_UNITS, key=len, reverse=True))
_WINDOW: Final = re.compile(
    rf"\b(?:last|past|since|over|previous|within|for)\s+(?:the\s+)?(?:(\d+(?:\.\d+)?)\s*)?"
    rf"({_UNIT_WORDS})\b"
)
_AGO: Final = re.compile(rf"\b(\d+(?:\.\d+)?)\s*({_UNIT_WORDS})\s+ago\b")
_MEMORY: Final = re.compile(r"\b(\d+(?:\.\d+)?)\s*(ki|mi|gi|ti|kib|mib|gib|tib|kb|mb|gb|tb)\b")
_CORES: Final = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:cpu\s*)?(?:cores?|vcpus?|cpus?)\b")
_MILLICORES: Final = re.compile(r"\b(\d+)\s*(?:m|millicores?)\b(?!\s*(?:ago|minutes?|mins?)\b)")
_CPU_NUMBER: Final = re.compile(r"\bcpu\s*(?:of|to|=|:)?\s*(\d+(?:\.\d+)?)\b(?!\s*[a-z])")
_REPLICAS: Final = re.compile(
    r"\b(?:to|with|at|=)\s+(\d+)\s*(?:replicas?|instances?|pods?|copies)?\b(?!\s*(?:nodes?|cores?|cpus?|%))"
    r"|\b(\d+)\s+(?:replicas?|instances?|copies)\b"
)
_NODES: Final = re.compile(r"\b(\d+)\s+(?:dedicated\s+)?nodes?\b")
_PODS: Final = re.compile(r"\b(\d+)\s+pods\b")
_REVISION: Final = re.compile(r"\b(?:revision|rev|version)\s*#?\s*(\d+)\b")
_ACTION_ID: Final = re.compile(r"\baction\s*#?\s*(\d+)\b|#(\d+)\b")
_IMAGE: Final = re.compile(
    r"(?<![\w/])((?:[a-z0-9-]+\.)+[a-z]+(?::\d+)?/[a-z0-9._/-]+(?::[\w.-]+)?"
    r"|[a-z0-9][a-z0-9._/-]*:v?\d[\w.-]*)"
)
_TAG: Final = re.compile(r"\b(?:tag|version|to)\s+v?(\d+\.\d+(?:\.\d+)?[\w.-]*)\b")
_SEMVER: Final = re.compile(r"(?<![\w./:-])v?(\d+\.\d+\.\d+[\w.-]*)\b")
_QUOTED: Final = re.compile(r"[\"“'‘`]([^\"”'’`]{2,80})[\"”'’`]")
_CONTAINING: Final = re.compile(r"\b(?:containing|contains|mentioning|matching|with text)\s+(\S+)")
_SEVERITY: Final = re.compile(r"\b(critical|high|medium|low)\b")
_EMAIL: Final = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")

# "workspace X", "X workspace", "project X", "app X"…: the kind word says what the name is.
_KINDS: Final = {
    "workspace": ("workspace", "workspaces", "ws", "vcluster", "cluster"),
    "project": ("project", "namespace", "ns"),
    "application": ("app", "application", "service", "deployment", "workload", "svc"),
    "function": ("function", "fn", "lambda"),
    "org": ("org", "organization", "organisation"),
}
_NAMED: Final = re.compile(rf"\b(?:named|called|name)\s+[\"'`]?({_NAME})")
_PATH: Final = re.compile(rf"\b({_NAME})/({_NAME})(?:/({_NAME}))?\b")
_IN_HYPHENATED: Final = re.compile(
    rf"\b(?:in|on|of|for|across|within|from|to|into)\s+(?:the\s+)?({_NAME}-{_NAME})\b"
)

# Words that never name an object: grammar, and the vocabulary the intents match on.
_STOP_TEXT: Final = """
    any kills killed kill doing fine broke
    a about above after again all also am an and any anything are as at be because been
    before being below between both but by can could did do does doing down during each else
    every few for from further had has have having he her here hers how i if in into is it
    its itself just let me more most my myself no nor not now of off on once only or other
    our out over own please same she should so some such than that the their them then there
    these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours ok okay hey hi hello thanks
    thank show list get give tell see find check look display print view want need like know
    make go going current currently right today yesterday hour hours minute minutes min mins
    day days week weeks last past since ago recent recently previous time window new create
    add spin set delete remove drop destroy tear teardown deploy release roll rollout
    rollback back undo revert scale restart reboot bounce redeploy replicas replica
    instances instance pods pod copies nodes node cores core cpu cpus memory mem ram usage
    use using used uses consume consumes consuming consumer consumers top biggest largest
    heavy hungry metrics metric latency p95 error errors rate throughput load traffic
    requests slow slower fast performance health healthy status state logs log lines line
    search grep containing contains mentioning matching summary summarize summarise say says
    said saying messages message frequent common failing failed fail fails failure broken
    wrong issue issues problem problems crash crashing crashes unhealthy erroring
    investigate diagnose debug happening happened whats what's security scan vulnerabilities
    vulnerability cves cve misconfiguration misconfigurations config configuration audit
    hardening risky recommend recommendation recommendations rightsize right-size size
    sizing scaling many much whatif what-if happen compare comparison change changes changed
    worse better regression deploys deployment deployments guide docs runbook explain
    configure enable apply workspace workspaces project projects namespace namespaces app
    apps application applications service services workload workloads function functions fn
    org organization organisation shared dedicated plan named called name dry run dry-run
    pending approval approvals actions action members something everything severity critical
    high low medium capability capabilities help able support supports things image tag
    version revision rev cluster vcluster ns svc onto per running runs alive mine ours in-
    the first second third overall whole entire across within fix fixed without memory-leak
    leak oom oomkilled crashloop sure yes ahead images lately stuff events event k8s
    kubernetes kubectl warning warnings hpa autoscaler autoscale autoscaling between
"""
STOPWORDS: Final = frozenset(_STOP_TEXT.split())


@dataclass
class Slots:
    """What one request says. Unset slots are None; `candidates` are the words that may name a
    workspace, project or workload (checked against the platform before use)."""

    text: str
    workspace: str | None = None
    project: str | None = None
    application: str | None = None
    function: str | None = None
    org: str | None = None
    name: str | None = None  # the name of an object to create
    since: str | None = None
    since_label: str | None = None  # the user's words for the window, e.g. "today"
    plan: str | None = None
    replicas: int | None = None
    cpu: str | None = None
    memory: str | None = None
    nodes: int | None = None
    pods: int | None = None
    revision: int | None = None
    action_id: int | None = None
    image: str | None = None
    tag: str | None = None
    severity: str | None = None
    resource: str | None = None  # cpu | memory, for rankings
    phrase: str | None = None  # a quoted or "containing …" search phrase
    email: str | None = None
    dry_run: bool = False
    candidates: list[str] = field(default_factory=list)

    @property
    def target(self) -> str | None:
        return self.application or self.function


def normalize(text: str) -> str:
    """Lowercase, straight quotes, single spaces: what the patterns expect."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def window(text: str) -> tuple[str, str] | None:
    """("2h", "last 2 hours") for the time words of a request; today/yesterday are
    approximated as the last 24h/48h (the tools take durations back from the platform's now)."""
    if match := _WINDOW.search(text):
        return _duration(float(match[1] or "1"), _UNITS[match[2]]), match[0]
    if match := _AGO.search(text):
        return _duration(float(match[1]), _UNITS[match[2]]), match[0]
    if re.search(r"\btoday\b|\bthis morning\b", text):
        return "24h", "today"
    if re.search(r"\byesterday\b", text):
        return "48h", "since yesterday"
    if re.search(r"\bthis week\b", text):
        return "7d", "this week"
    return None


_SECONDS: Final = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _duration(amount: float, unit: str) -> str:
    """The duration in the largest unit that keeps it whole: 1.5h → 90m."""
    seconds = round(amount * _SECONDS[unit])
    for name, size in _SECONDS.items():
        if seconds % size == 0:
            return f"{seconds // size}{name}"
    return f"{max(seconds, 1)}s"


def memory(text: str) -> str | None:
    """'512Mi', '1 GiB', '2gb' as a Kubernetes quantity (binary units)."""
    match = _MEMORY.search(text)
    if not match:
        return None
    unit = {"k": "Ki", "m": "Mi", "g": "Gi", "t": "Ti"}[match[2][0]]
    number = float(match[1])
    if not number.is_integer() and unit != "Ki":  # 1.5Gi → 1536Mi: quantities want integers
        smaller = {"Mi": "Ki", "Gi": "Mi", "Ti": "Gi"}[unit]
        return f"{int(number * 1024)}{smaller}"
    return f"{int(number)}{unit}"


def cpu(text: str) -> str | None:
    """'500m', '2 cores', 'cpu 1.5' as a Kubernetes CPU quantity."""
    if match := _CORES.search(text):
        number = float(match[1])
        return f"{int(number)}" if number.is_integer() else f"{int(number * 1000)}m"
    if match := _MILLICORES.search(text):
        return f"{match[1]}m"
    if match := _CPU_NUMBER.search(text):
        return match[1]
    return None


def _kind_names(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for kind, words in _KINDS.items():
        alternatives = "|".join(words)
        before = re.search(rf"\b(?:{alternatives})\s+[\"'`]?({_NAME})\b", text)
        after = re.search(rf"\b({_NAME})[\"'`]?\s+(?:{alternatives})\b", text)
        for match in (before, after):
            if match and match[1] not in STOPWORDS and kind not in found:
                found[kind] = match[1]
    return found


def _number(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    if not match:
        return None
    return int(next(group for group in match.groups() if group))


def extract(request: str) -> Slots:
    """The slots of a request (see `Slots`)."""
    text = normalize(request)
    slots = Slots(text=text)
    if found := window(text):
        slots.since, slots.since_label = found
    slots.memory = memory(text)
    slots.cpu = cpu(_AGO.sub(" ", _WINDOW.sub(" ", _MEMORY.sub(" ", text))))
    slots.nodes = _number(_NODES, text)
    slots.pods = _number(_PODS, text)
    slots.revision = _number(_REVISION, text)
    slots.action_id = _number(_ACTION_ID, text)
    slots.dry_run = bool(re.search(r"\bdry[- ]?run\b|\bwithout changing\b", text))
    if match := _SEVERITY.search(text):
        slots.severity = match[1].upper()
    if re.search(r"\bdedicated\b", text):
        slots.plan = "dedicated"
    elif re.search(r"\bshared\b", text):
        slots.plan = "shared"
    if re.search(r"\b(?:cpu|cores?|processor)\b", text):
        slots.resource = "cpu"
    elif re.search(r"\b(?:memory|mem|ram)\b", text):
        slots.resource = "memory"
    if match := _EMAIL.search(request.lower()):
        slots.email = match[0]
    if match := _IMAGE.search(text):
        slots.image = match[1]
    if match := _TAG.search(text) or _SEMVER.search(text):
        slots.tag = match[1]
    if match := _QUOTED.search(request):
        slots.phrase = match[1]
    elif match := _CONTAINING.search(text):
        slots.phrase = match[1].strip("\"'`.,?!")

    scrubbed = _scrub(text, slots)
    slots.replicas = _number(_REPLICAS, scrubbed)
    kinds = _kind_names(scrubbed)
    slots.workspace = kinds.get("workspace")
    slots.project = kinds.get("project")
    slots.application = kinds.get("application")
    slots.function = kinds.get("function")
    slots.org = kinds.get("org")
    if match := _NAMED.search(scrubbed):
        slots.name = match[1]
    if match := _PATH.search(scrubbed):
        slots.workspace = slots.workspace or match[1]
        slots.project = slots.project or match[2]
        if match[3]:
            slots.application = slots.application or match[3]
    if slots.workspace is None and (match := _IN_HYPHENATED.search(scrubbed)):
        slots.workspace = match[1]
    known = {
        slots.workspace,
        slots.project,
        slots.application,
        slots.function,
        slots.org,
        slots.name,
    }
    words = re.findall(rf"{_NAME}", _PATH.sub(" ", scrubbed))
    slots.candidates = list(
        dict.fromkeys(
            w
            for w in words
            if w not in STOPWORDS and w not in known and not w.isdigit() and len(w) > 1
        )
    )
    return slots


def _scrub(text: str, slots: Slots) -> str:
    """The text without quantities, windows, quoted phrases and images (so their parts are not
    taken for names)."""
    for pattern in (
        _QUOTED,
        _WINDOW,
        _AGO,
        _MEMORY,
        _CORES,
        _IMAGE,
        _TAG,
        _SEMVER,
        _EMAIL,
        _REVISION,
    ):
        text = pattern.sub(" ", text)
    if slots.phrase:
        text = text.replace(slots.phrase.lower(), " ")
    text = _MILLICORES.sub(" ", text)
    return re.sub(r"\b\d+(?:\.\d+)?\s*(?:%|percent)", " ", text)
