from hexaops.platform.core import Platform


def test_seeded_platform_has_demo_workspaces(platform: Platform) -> None:
    owner = platform.user("owner@acme.example")
    names = [w.name for w in platform.workspaces(owner)]
    assert names == ["acme-prod", "acme-staging"]
