"""The liaison routes, one file per audience and resource."""

from __future__ import annotations

__all__ = ("routes",)


def routes() -> list[object]:
    """Every route of the module, for the /api/v1 router."""
    from modules.liaison.routes.events import BulletinController, InvitationController
    from modules.liaison.routes.register import RegisterController
    from modules.liaison.routes.rep import RepController
    from modules.liaison.routes.suggestions import SuggestionController

    return [RegisterController, SuggestionController, InvitationController, BulletinController, RepController]
