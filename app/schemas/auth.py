"""Bodies of accounts and tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from app.enums import Role
from app.schemas.common import Body, Out, Timestamp

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[\w.-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
# no whitespace or control characters, spelled out: `\s` alone differs between the server's
# regex engine (Unicode, so U+0085 is a space) and the spec's (ECMA-262, where it is not)
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f\uFEFF]+"
Email = Annotated[str, StringConstraints(max_length=254, pattern=rf"^{_EMAIL_PART}@{_EMAIL_PART}$")]


class RegisterBody(Body):
    username: Username
    password: Password
    email: Email | None = None


class LoginBody(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class AuthConfig(BaseModel):
    registration: Literal["open", "admin"]
    # single sign-on: the provider's name for the login page's button; null when it is off
    sso_name: str | None = None
    sso_login_url: str | None = None


class SsoExchange(Body):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class UserOut(Out):
    id: int
    username: str
    email: str | None
    role: Role
    active: bool
    created_at: Timestamp
