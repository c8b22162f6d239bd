"""``/api/v1/users`` and ``/api/v1/settings`` (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from vigil.web.api.schemas import ErrorOut
from vigil.web.auth import Principal, require
from vigil.web.context import AppContext, get_ctx
from vigil.workflow import accounts
from vigil.workflow.roles import Permission
from vigil.workflow.settings import all_settings, set_setting

router = APIRouter(prefix="/api/v1", tags=["admin"])
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
}


class UserOut(BaseModel):
    username: str
    role: str


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    role: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(
    who: Principal = Depends(require(Permission.MANAGE_USERS)), ctx: AppContext = Depends(get_ctx)
) -> list[UserOut]:
    return [UserOut(username=u.username, role=u.role) for u in accounts.list_users(ctx.store)]


@router.post("/users", response_model=UserOut, status_code=201, responses=ERRORS)
def add_user(
    body: UserIn,
    who: Principal = Depends(require(Permission.MANAGE_USERS)),
    ctx: AppContext = Depends(get_ctx),
) -> UserOut:
    user = accounts.add_user(ctx.store, body.username, body.role, body.password, actor=who.name)
    return UserOut(username=user.username, role=user.role)


@router.get("/settings", response_model=dict[str, Any], responses=ERRORS)
def get_settings(
    who: Principal = Depends(require(Permission.MANAGE_SETTINGS)), ctx: AppContext = Depends(get_ctx)
) -> dict[str, Any]:
    return all_settings(ctx.store)


@router.put("/settings/{key}", response_model=dict[str, Any], responses=ERRORS)
def put_setting(
    key: Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[a-z0-9_.-]+$")],
    value: Annotated[Any, Body()],
    who: Principal = Depends(require(Permission.MANAGE_SETTINGS)),
    ctx: AppContext = Depends(get_ctx),
) -> dict[str, Any]:
    """Set one setting to a JSON value; the change (old and new value) is audited."""
    set_setting(ctx.store, key, value, who.name)
    return all_settings(ctx.store)
