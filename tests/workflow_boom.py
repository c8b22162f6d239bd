"""A feature router that fails on purpose, to test that a 500 reaches the client without a trace."""

from fastapi import APIRouter

router = APIRouter()
NAV = [("Boom", "/boom")]


@router.get("/api/v1/boom")
def boom() -> None:
    raise RuntimeError("secret internal detail")
