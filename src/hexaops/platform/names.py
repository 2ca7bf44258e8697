"""Names and resource quantities as Kubernetes spells them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from hexaops.platform.errors import InvalidInput

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# A workspace's host namespace is "<org>-<workspace>-<digest5>", a DNS-1123 label (<= 63).
MAX_LENGTH = {"organization": 20, "workspace": 36, "project": 63, "application": 63, "function": 63}


def check_name(kind: str, name: str) -> str:
    """Return `name` if it is a valid DNS-1123 label for `kind`, else raise InvalidInput."""
    limit = MAX_LENGTH.get(kind, 63)
    if not name or len(name) > limit or not _DNS1123_LABEL.match(name):
        raise InvalidInput(
            f"invalid {kind} name {name!r}: use 1-{limit} lowercase letters, digits or '-', "
            "starting and ending with a letter or digit (e.g. 'shop-api')"
        )
    return name


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T|k)?$")
_MEMORY_FACTOR = {
    None: 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def parse_cpu(value: str | int | float) -> int:
    """Parse a CPU quantity ("2", "0.5", "500m") into millicores."""
    text = str(value).strip()
    match = _CPU.match(text)
    if not match:
        raise InvalidInput(
            f"invalid cpu quantity {value!r}: use cores ('2', '0.5') or millicores ('500m')"
        )
    number, milli = match.groups()
    millis = Decimal(number) if milli else Decimal(number) * 1000
    if millis != millis.to_integral_value():
        raise InvalidInput(f"invalid cpu quantity {value!r}: finer than 1 millicore")
    return int(millis)


def parse_memory(value: str | int) -> int:
    """Parse a memory quantity ("512Mi", "8Gi", "1G", "1048576") into bytes."""
    text = str(value).strip()
    match = _MEMORY.match(text)
    if not match:
        raise InvalidInput(f"invalid memory quantity {value!r}: use e.g. '512Mi', '8Gi' or bytes")
    number, unit = match.groups()
    try:
        result = Decimal(number) * _MEMORY_FACTOR[unit]
    except InvalidOperation as exc:  # pragma: no cover - regex admits only decimals
        raise InvalidInput(f"invalid memory quantity {value!r}") from exc
    return int(result)


def format_cpu(millis: int) -> str:
    """Millicores as Kubernetes prints them: whole cores when exact, else "NNNm"."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def format_memory(size: int) -> str:
    """Bytes in the largest binary unit that divides them exactly."""
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        factor = _MEMORY_FACTOR[unit]
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
