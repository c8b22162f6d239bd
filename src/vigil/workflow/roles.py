"""Roles and what each may do. A role is a name and a set of permissions; adding one (e.g. ``dpo``) is one
entry in ``ROLES`` plus the states it may move cases to in ``vigil.workflow.states``."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    VIEW_CASES = "cases.view"
    WORK_CASES = "cases.work"
    VIEW_AUDIT = "audit.view"
    EXPORT_AUDIT = "audit.export"
    MANAGE_USERS = "users.manage"
    MANAGE_SETTINGS = "settings.manage"
    PRIVACY_REPORT = "privacy.report"  # the data-protection officer's reports (reveals, register)
    MANAGE_DNR = "dnr.manage"  # keep do-not-refer entries (investigators)


ROLES: dict[str, frozenset[Permission]] = {
    "analyst": frozenset({Permission.VIEW_CASES, Permission.WORK_CASES}),
    "verifier": frozenset({Permission.VIEW_CASES, Permission.WORK_CASES}),
    "legal": frozenset({Permission.VIEW_CASES, Permission.WORK_CASES}),
    "admin": frozenset(
        {
            Permission.VIEW_CASES,
            Permission.VIEW_AUDIT,
            Permission.EXPORT_AUDIT,
            Permission.MANAGE_USERS,
            Permission.MANAGE_SETTINGS,
            Permission.PRIVACY_REPORT,
            Permission.MANAGE_DNR,
        }
    ),
    "auditor": frozenset(
        {Permission.VIEW_CASES, Permission.VIEW_AUDIT, Permission.EXPORT_AUDIT, Permission.PRIVACY_REPORT}
    ),
    # The data-protection officer: reads cases and the log, reveals identities with a reason
    # (``[privacy] reveal_roles``), and reads the reveal report.
    "dpo": frozenset({Permission.VIEW_CASES, Permission.VIEW_AUDIT, Permission.PRIVACY_REPORT}),
    # An investigator keeps do-not-refer entries so that no referral tips off a live investigation.
    "investigator": frozenset({Permission.MANAGE_DNR}),
}


def is_role(name: str) -> bool:
    return name in ROLES


def can(role: str, permission: Permission) -> bool:
    return permission in ROLES.get(role, frozenset())
