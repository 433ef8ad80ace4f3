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
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class RegisterBody(Body):
    username: Username
    password: Password
    email: Email | None = None


class LoginBody(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class AuthConfig(BaseModel):
    registration: Literal["open", "admin"]


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
