"""The catalogue of actions a permission list can grant. Guards check these, never role names."""

from __future__ import annotations

__all__ = ("ACTIONS", "AUTHENTICATED", "EXTERNAL_GRANTABLE", "EXTERNAL_KINDS", "IDENTITY_ACTIONS", "STAFF_ROLES",
           "grantable", "register_actions")

# Any signed-in principal may call the route; what they see is still scoped to them.
AUTHENTICATED = "authenticated"

STAFF_ROLES = ("prosecutor", "assistant", "dept_head", "chief", "case_mgmt", "complaints_office",
               "liaison_office", "admin")
# Principals from outside the procuratorate: each acts under the role of its own kind.
EXTERNAL_KINDS = ("deputy", "member", "citizen", "partner")

ACTIONS: dict[str, str] = {
    "admin.users.read": "See the office's accounts.",
    "admin.users.manage": "Create, disable, re-role, reset, move, retire and unlock accounts of the office.",
    "admin.sessions.revoke": "Sign an account out everywhere.",
    "admin.permissions.read": "Read the permission list in force for the office.",
    "admin.permissions.manage": "Change the office's permission list (or the province's, from the top office).",
    "admin.clients.read": "See the office's partner-agency clients.",
    "admin.clients.manage": "Register, change or disable partner-agency clients.",
    "admin.audit.read": "Read the office's audit trail.",
    "admin.office.manage": "Change office settings such as requiring a second factor.",
    "admin.modules.manage": "Enable, disable and configure modules for the office.",
    "admin.offices.manage": "Create, rename, move and retire the offices below one's own; set password policy.",
    "admin.roles.approve": "Approve another admin's change of roles (one's own, or a role that sees identities).",
}


# The most a permission list may ever grant to principals from outside: an admin cannot hand a partner
# agency, a deputy or a citizen any staff or admin power, whatever they write into a list.
EXTERNAL_GRANTABLE: dict[str, set[str]] = {kind: set() for kind in EXTERNAL_KINDS}


# Actions whose holders see identities the law protects (举报人保护). Giving a role that carries one needs a second
# admin (auth/role_requests.py), and no list may give one to the admin role: an admin would otherwise grant it
# to their own role through the permission list instead of through their roles.
IDENTITY_ACTIONS = frozenset({"complaint.identity.view"})


def grantable(role: str, action: str) -> bool:
    """Whether a permission list (or a partner client's scopes) may grant this action to this role."""
    if role == "admin" and action in IDENTITY_ACTIONS:
        return False
    if role in STAFF_ROLES:
        return action in ACTIONS
    return action in EXTERNAL_GRANTABLE.get(role, ())


def register_actions(actions: dict[str, str], external: dict[str, set[str]] | None = None) -> None:
    """Add a module's actions to the catalogue, and those outside principals may be granted (at import)."""
    for name in actions:
        if name in ACTIONS:
            raise ValueError(f"action {name} registered twice")
    ACTIONS.update(actions)
    for kind, names in (external or {}).items():
        unknown = set(names) - set(actions)
        if unknown or kind not in EXTERNAL_GRANTABLE:
            raise ValueError(f"external grants for {kind} name unknown actions {sorted(unknown)}")
        EXTERNAL_GRANTABLE[kind] |= set(names)
