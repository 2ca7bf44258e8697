"""Who is calling an interface (API, MCP): a bearer token → a platform Principal.

Production: an OIDC access/ID token (RS256 or ES256) checked against the issuer's JWKS —
signature, `exp`/`nbf` (30 s leeway), `iss` and `aud` — whose `email` claim names a platform
user. The embedded demo also takes *dev tokens*: HS256 tokens signed with a secret kept in the
hexaops home (created 0600 on first use), issued by `dev_token` for the seeded users. They are
only accepted while dev login is enabled (see `dev_login_enabled`), and never as OIDC tokens:
the algorithm lists of the two kinds do not overlap.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Final

import httpx
import jwt

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import ConfigurationError, NotFound, PlatformError
from hexaops.settings import Settings

DEV_ISSUER: Final = "hexaops-dev-login"
DEV_AUDIENCE: Final = "hexaops"
DEV_ALGORITHM: Final = "HS256"
OIDC_ALGORITHMS: Final = ("RS256", "ES256")
LEEWAY_SECONDS: Final = 30
EMAIL: Final = re.compile(r"[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]{1,253}")
_SECRET_FILE: Final = "dev-login.key"


class AuthError(PlatformError):
    """The caller could not be authenticated; the message is safe to show (maps to 401)."""

    code = "unauthenticated"


def oidc_issuer(settings: Settings) -> str | None:
    value = settings.oidc_issuer
    return str(value).rstrip("/") if value else None


def dev_login_enabled(settings: Settings) -> bool:
    """Dev login is on when set so, or by default in the embedded demo: no OIDC issuer and no
    external database. Any production setup (an issuer or a DATABASE_URL) turns it off."""
    explicit = settings.dev_login
    if explicit is not None:
        return bool(explicit)
    return oidc_issuer(settings) is None and settings.database_url is None


def check_auth_settings(settings: Settings) -> None:
    """Fail fast (at startup) on an auth setup that could not authenticate anyone safely."""
    issuer = oidc_issuer(settings)
    if issuer is not None and not settings.oidc_audience:
        raise ConfigurationError(
            "HEXAOPS_OIDC_AUDIENCE: required with HEXAOPS_OIDC_ISSUER (the client id or API "
            "identifier your identity provider puts in `aud`)"
        )
    if issuer is None and not dev_login_enabled(settings):
        raise ConfigurationError(
            "no way to sign in: set HEXAOPS_OIDC_ISSUER and HEXAOPS_OIDC_AUDIENCE, or "
            "HEXAOPS_DEV_LOGIN=true for a demo"
        )


# -- authentication -----------------------------------------------------------------------


def authenticate(platform: Platform, settings: Settings, token: str) -> Principal:
    """The platform user a bearer token stands for, or AuthError saying what is wrong."""
    token = token.strip()
    if not token:
        raise AuthError("missing bearer token: send `Authorization: Bearer <token>`")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthError("malformed bearer token: expected a JWT") from None
    if header.get("alg") == DEV_ALGORITHM:
        claims = _dev_claims(settings, token)
    else:
        claims = _oidc_claims(settings, token, header)
    email = claims.get(settings.oidc_email_claim or "email")
    if not isinstance(email, str) or not email:
        raise AuthError("the token has no email claim: request the `email` scope")
    if not EMAIL.fullmatch(email):
        raise AuthError("the token's email claim is not an email address")
    if claims.get("email_verified") is False:
        raise AuthError(f"the email {email} is not verified at your identity provider")
    try:
        return platform.user(email)
    except NotFound:
        raise AuthError(
            f"{email} is not a platform user: ask an organization owner to add you"
        ) from None


def _decode_errors(kind: str, exc: jwt.PyJWTError) -> AuthError:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return AuthError(f"the {kind} has expired: sign in again")
    if isinstance(exc, jwt.ImmatureSignatureError):
        return AuthError(f"the {kind} is not valid yet (nbf/iat in the future): check clocks")
    if isinstance(exc, jwt.InvalidAudienceError):
        return AuthError(f"the {kind} is for another audience")
    if isinstance(exc, jwt.InvalidIssuerError):
        return AuthError(f"the {kind} comes from another issuer")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return AuthError(f"the {kind} lacks the `{exc.claim}` claim")
    if isinstance(exc, jwt.InvalidSignatureError):
        return AuthError(f"the {kind}'s signature does not verify")
    return AuthError(f"invalid {kind}: {exc}")


def _dev_claims(settings: Settings, token: str) -> dict[str, Any]:
    if not dev_login_enabled(settings):
        raise AuthError("dev login is disabled here: sign in with your identity provider")
    try:
        return jwt.decode(
            token,
            _dev_secret(settings),
            algorithms=[DEV_ALGORITHM],
            audience=DEV_AUDIENCE,
            issuer=DEV_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "email"]},
        )
    except jwt.PyJWTError as exc:
        raise _decode_errors("dev token", exc) from None


def _oidc_claims(settings: Settings, token: str, header: dict[str, Any]) -> dict[str, Any]:
    issuer = oidc_issuer(settings)
    if issuer is None:
        raise AuthError(
            "OIDC sign-in is not configured here (HEXAOPS_OIDC_ISSUER): use a dev token"
        )
    if header.get("alg") not in OIDC_ALGORITHMS:
        raise AuthError(f"unsupported token algorithm {header.get('alg')!r}: use RS256 or ES256")
    try:
        key = _jwks(settings, issuer).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError:
        raise AuthError("cannot reach the identity provider's keys (JWKS): try again") from None
    except jwt.PyJWKClientError:
        raise AuthError("the token's signing key is not among the identity provider's") from None
    except jwt.PyJWTError as exc:
        raise _decode_errors("token", exc) from None
    try:
        return jwt.decode(
            token,
            key,
            algorithms=list(OIDC_ALGORITHMS),
            audience=settings.oidc_audience,
            issuer=[issuer, issuer + "/"],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise _decode_errors("token", exc) from None


_jwks_clients: dict[str, jwt.PyJWKClient] = {}
_jwks_lock = threading.Lock()


def _jwks(settings: Settings, issuer: str) -> jwt.PyJWKClient:
    """One key-caching JWKS client per URL (keys are refetched when an unknown kid shows up)."""
    url = settings.oidc_jwks_url or _discover_jwks_url(issuer)
    with _jwks_lock:
        client = _jwks_clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=10)
            _jwks_clients[url] = client
        return client


_discovered: dict[str, str] = {}


def _discover_jwks_url(issuer: str) -> str:
    """`jwks_uri` from the issuer's OpenID configuration (fetched once per process)."""
    if issuer not in _discovered:
        try:
            response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
            response.raise_for_status()
            _discovered[issuer] = str(response.json()["jwks_uri"])
        except (httpx.HTTPError, ValueError, KeyError):
            raise AuthError(
                "cannot read the identity provider's OpenID configuration: set "
                "HEXAOPS_OIDC_JWKS_URL or try again"
            ) from None
    return _discovered[issuer]


# -- dev login ----------------------------------------------------------------------------


def dev_token(settings: Settings, email: str, ttl_seconds: int = 8 * 3600) -> str:
    """A dev-login token for `email` (DEMO ONLY): accepted while dev login is enabled."""
    if not dev_login_enabled(settings):
        raise AuthError("dev login is disabled here: sign in with your identity provider")
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": email.strip().lower(),
        "email": email.strip().lower(),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, _dev_secret(settings), algorithm=DEV_ALGORITHM)


def _dev_secret(settings: Settings) -> bytes:
    """The per-home signing secret, created 0600 on first use (never leaves the machine).
    Written to a private temp file and linked into place, so no reader sees it half-written."""
    path = Path(settings.home) / _SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dev-login-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            os.link(tmp, path)
        except FileExistsError:  # another process won the race: use its secret
            pass
        finally:
            os.unlink(tmp)
    return bytes.fromhex(path.read_text().strip())
