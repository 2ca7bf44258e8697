"""Authentication: OIDC JWTs signed by a local RSA/EC key, verified against a JWKS served over
local HTTP; dev-login tokens only while dev login is on. Every refusal is a 401 problem with
a message that says what to do, and never reveals more than that."""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from hexaops.platform.core import Platform
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings
from hexaops.ui.api import create_app
from hexaops.ui.auth import AuthError, authenticate, dev_token

ISSUER = "https://idp.example.test/realms/hexaops"
AUDIENCE = "hexaops-api"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
INTRUDER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """A local JWKS endpoint with the RSA and EC public keys (no network involved)."""
    keys = [
        json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())) | {"kid": "rsa-1", "use": "sig"},
        json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())) | {"kid": "ec-1", "use": "sig"},
    ]
    body = json.dumps({"keys": keys}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


@pytest.fixture
def oidc_settings(tmp_path: Path, jwks_url: str) -> Settings:
    return Settings(
        home=tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=jwks_url
    )


@pytest.fixture
def oidc_api(api_for: Callable[[Settings], TestClient], oidc_settings: Settings) -> TestClient:
    return api_for(oidc_settings)


def oidc_token(
    email: str | None = "dev@acme.example",
    *,
    key: Any = RSA_KEY,
    kid: str = "rsa-1",
    alg: str = "RS256",
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "iat": now, "exp": now + 300}
    if email is not None:
        payload["email"] = email
    payload |= claims
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


def _me(api: TestClient, token: str) -> Any:
    return api.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def test_a_valid_oidc_token_acts_as_its_user(oidc_api: TestClient) -> None:
    for token in (oidc_token(), oidc_token(key=EC_KEY, kid="ec-1", alg="ES256")):
        response = _me(oidc_api, token)
        assert response.status_code == 200, response.text
        assert response.json()["email"] == "dev@acme.example"
        assert [o["slug"] for o in response.json()["organizations"]] == ["acme"]


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (lambda: oidc_token(exp=int(time.time()) - 120), "expired"),
        (lambda: oidc_token(nbf=int(time.time()) + 600), "not valid yet"),
        (lambda: oidc_token(aud="someone-else"), "another audience"),
        (lambda: oidc_token(iss="https://evil.example"), "another issuer"),
        (lambda: oidc_token(key=INTRUDER_KEY), "signature does not verify"),
        (lambda: oidc_token(kid="unknown-kid"), "signing key is not among"),
        (lambda: oidc_token(email=None), "no email claim"),
        (lambda: oidc_token(email_verified=False), "not verified"),
        (lambda: oidc_token("mallory@nowhere.example"), "not a platform user"),
        (lambda: "not-a-jwt", "malformed"),
        (lambda: jwt.encode({"email": "owner@acme.example"}, None, algorithm="none"), "algorithm"),
    ],
)
def test_bad_tokens_are_refused_with_a_401_problem(
    oidc_api: TestClient, token: Callable[[], str], says: str
) -> None:
    response = _me(oidc_api, token())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert says in response.json()["detail"]


def test_no_token_or_another_scheme_is_a_401(oidc_api: TestClient) -> None:
    assert oidc_api.get("/api/orgs").status_code == 401
    basic = oidc_api.get("/api/orgs", headers={"Authorization": "Basic b3duZXI6cHc="})
    assert basic.status_code == 401
    assert "Bearer" in basic.json()["detail"]


def test_dev_tokens_are_refused_when_an_identity_provider_is_configured(
    oidc_api: TestClient, oidc_settings: Settings, api_settings: Settings
) -> None:
    forged = dev_token(api_settings, "owner@acme.example")  # a demo's token, replayed here
    response = _me(oidc_api, forged)
    assert response.status_code == 401
    assert "dev login is disabled" in response.json()["detail"]
    login = oidc_api.post("/api/auth/dev-token", json={"email": "owner@acme.example"})
    assert login.status_code == 403


def test_dev_login_in_the_demo(api: TestClient, api_settings: Settings) -> None:
    login = api.post("/api/auth/dev-token", json={"email": "viewer@acme.example"})
    assert login.status_code == 200
    token = login.json()["access_token"]
    assert _me(api, token).json()["email"] == "viewer@acme.example"
    unknown = api.post("/api/auth/dev-token", json={"email": "nobody@acme.example"})
    assert unknown.status_code == 401
    secret = api_settings.home / "dev-login.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # Signed with another home's secret: refused.
    other = dev_token(Settings(home=api_settings.home / "other"), "owner@acme.example")
    assert _me(api, other).status_code == 401


def test_authenticate_is_the_contract_other_interfaces_use(
    platform: Platform, oidc_settings: Settings, api_settings: Settings
) -> None:
    assert authenticate(platform, oidc_settings, oidc_token()).id == "dev@acme.example"
    token = dev_token(api_settings, "Owner@Acme.Example")
    assert authenticate(platform, api_settings, token).id == "owner@acme.example"
    with pytest.raises(AuthError, match="expired"):
        authenticate(platform, api_settings, dev_token(api_settings, "dev@acme.example", -100))


def test_an_issuer_without_an_audience_is_refused_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="HEXAOPS_OIDC_AUDIENCE"):
        create_app(Settings(home=tmp_path, oidc_issuer=ISSUER))
    with pytest.raises(ConfigurationError, match="no way to sign in"):
        create_app(Settings(home=tmp_path, database_url="postgresql://db/hexaops", dev_login=False))
