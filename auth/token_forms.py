"""The token endpoint's form, one schema per grant, for the spec: generated clients get a type per grant that
names exactly the fields it takes, optional ones left out rather than null (a form has no null). The endpoint
itself reads one lenient form (`auth.grants.TokenRequest`), to answer in OAuth's terms."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from api.net import DEVICE_ID_PATTERN

__all__ = ("TOKEN_FORMS",)

_Small = Annotated[str, msgspec.Meta(max_length=128)]
_Secret = Annotated[str, msgspec.Meta(max_length=1024)]
_Large = Annotated[str, msgspec.Meta(max_length=8192)]
_AssertionType = Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
_Device = Annotated[str, msgspec.Meta(pattern=DEVICE_ID_PATTERN)]


class PasswordGrantForm(msgspec.Struct, kw_only=True):
    """Staff and representatives: username and password, plus the TOTP code once enrolled (RFC 6749 §4.3)."""

    grant_type: Literal["password"]
    client_id: Literal["staff-app", "representative-app"]
    username: _Small
    password: _Secret
    totp: _Small | msgspec.UnsetType = msgspec.UNSET
    device_id: _Device | msgspec.UnsetType = msgspec.UNSET


class OtpGrantForm(msgspec.Struct, kw_only=True):
    """Citizens: the phone number and the code texted to it by POST /api/v1/auth/otp."""

    grant_type: Literal["urn:jianwu:otp"]
    client_id: Literal["public-app"]
    phone: _Small
    code: _Small
    device_id: _Device | msgspec.UnsetType = msgspec.UNSET


class ClientCredentialsGrantForm(msgspec.Struct, kw_only=True):
    """Partner agencies: the client secret, or a signed assertion (RFC 7523 §2.2) instead (RFC 6749 §4.4)."""

    grant_type: Literal["client_credentials"]
    client_id: _Small
    client_secret: _Secret | msgspec.UnsetType = msgspec.UNSET
    client_assertion_type: _AssertionType | msgspec.UnsetType = msgspec.UNSET
    client_assertion: _Large | msgspec.UnsetType = msgspec.UNSET
    scope: _Large | msgspec.UnsetType = msgspec.UNSET


class RefreshTokenGrantForm(msgspec.Struct, kw_only=True):
    """Any user: a refresh token, answered with a new pair (the old one is spent) (RFC 6749 §6)."""

    grant_type: Literal["refresh_token"]
    refresh_token: _Secret
    client_id: _Small | msgspec.UnsetType = msgspec.UNSET


class SsoGrantForm(msgspec.Struct, kw_only=True):
    """Staff through the province's single sign-on, when configured: the code and state it redirected with."""

    grant_type: Literal["urn:jianwu:sso"]
    client_id: Literal["staff-app"]
    code: _Small
    state: _Small
    device_id: _Device | msgspec.UnsetType = msgspec.UNSET


TOKEN_FORMS = (PasswordGrantForm, OtpGrantForm, ClientCredentialsGrantForm, RefreshTokenGrantForm, SsoGrantForm)
