"""The sandbox's simulated scanner: findings follow image versions, like a real advisory DB."""

from __future__ import annotations

from hexaops.platform.sandbox.vulnerabilities import findings_of, packages_of, version_key


def _ids(image: str, compromised: frozenset[str] = frozenset()) -> list[str]:
    return sorted(adv.id for adv, _ in findings_of(packages_of(image, compromised)))


def test_patched_tags_have_no_findings() -> None:
    assert _ids("ghcr.io/acme/payments:3.0.7") == ["CVE-2023-44487", "CVE-2024-5535"]
    assert _ids("ghcr.io/acme/payments:3.1.0") == []
    assert _ids("ghcr.io/acme/frontend:2.3.1") == ["CVE-2024-4067"]
    assert _ids("ghcr.io/acme/frontend:2.10.0") == []  # versions compare as numbers
    assert _ids("ghcr.io/acme/catalog:1.9.0") == []
    assert _ids("docker.io/library/nginx:1.25") == []


def test_an_image_built_on_the_compromised_base_carries_its_flaws() -> None:
    image = "ghcr.io/acme/checkout:1.4.2"
    assert _ids(image) == []
    assert _ids(image, frozenset({image})) == ["CVE-2023-44487", "CVE-2024-3094", "CVE-2024-6387"]
    assert _ids("ghcr.io/acme/checkout:1.4.3", frozenset({image})) == []


def test_versions_compare_by_their_numbers() -> None:
    assert version_key("9.6p1") < version_key("9.8p1")
    assert version_key("0.15.0") < version_key("0.17.0") < version_key("0.100.0")
