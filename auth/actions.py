"""The catalogue of actions a permission list can grant. Guards check these, never role names."""

from __future__ import annotations

__all__ = ("ACTIONS", "AUTHENTICATED", "EXTERNAL_KINDS", "STAFF_ROLES", "register_actions")

# Any signed-in principal may call the route; what they see is still scoped to them.
AUTHENTICATED = "authenticated"

STAFF_ROLES = ("prosecutor", "assistant", "dept_head", "chief", "case_mgmt", "complaints_office",
               "liaison_office", "admin")
# Principals from outside the procuratorate: each acts under the role of its own kind.
EXTERNAL_KINDS = ("deputy", "member", "citizen", "partner")

ACTIONS: dict[str, str] = {
    "admin.users.read": "See the office's accounts.",
    "admin.users.manage": "Disable or enable accounts of the office.",
    "admin.sessions.revoke": "Sign an account out everywhere.",
    "admin.permissions.read": "Read the permission list in force for the office.",
    "admin.permissions.manage": "Change the office's permission list (or the province's, from the top office).",
    "admin.clients.read": "See the office's partner-agency clients.",
    "admin.clients.manage": "Register, change or disable partner-agency clients.",
    "admin.audit.read": "Read the office's audit trail.",
    "admin.office.manage": "Change office settings such as requiring a second factor.",
    "admin.modules.manage": "Enable, disable and configure modules for the office.",
}


def register_actions(actions: dict[str, str]) -> None:
    """Add a module's actions to the catalogue (called at import by each module)."""
    for name in actions:
        if name in ACTIONS:
            raise ValueError(f"action {name} registered twice")
    ACTIONS.update(actions)
