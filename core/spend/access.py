"""Who may use the bot where, and who administers it (``[access]``)."""

from __future__ import annotations

from core.spend.policy import AccessPolicy, PlaceRules
from core.types import Conversation, Platform


def is_admin(policy: AccessPolicy, conversation: Conversation) -> bool:
    """Configured admin ids (``discord:<id>``, ``feishu:<open_id>`` or a bare id), or Discord's Manage
    Server permission reported by the platform. Console and CLI users run the process: admins."""
    if conversation.platform in (Platform.CONSOLE, Platform.CLI):
        return True
    user = conversation.user_id
    return (
        conversation.manager
        or user in policy.admins
        or f"{conversation.platform.value}:{user}" in policy.admins
    )


def _roles_permit(rules: PlaceRules, roles: tuple[str, ...]) -> bool:
    if any(role in rules.deny for role in roles):
        return False
    return not rules.allow or any(role in rules.allow for role in roles)


def is_allowed(policy: AccessPolicy, conversation: Conversation) -> bool:
    """True when the message's place and author pass every allow/deny list of its platform. Configured
    admins are never locked out (they must be able to undo a wrong list)."""
    c = conversation
    if (
        c.platform in (Platform.CONSOLE, Platform.CLI)
        or c.user_id in policy.admins
        or f"{c.platform.value}:{c.user_id}" in policy.admins
    ):
        return True
    if c.platform is Platform.DISCORD:
        in_guild = c.space_id is not None
        return (
            (not in_guild or policy.discord_guilds.permits(c.space_id))
            and policy.discord_channels.permits(c.chat_id)
            and (not in_guild or _roles_permit(policy.discord_roles, c.roles))
            and policy.discord_users.permits(c.user_id)
        )
    if c.platform is Platform.FEISHU:
        return (
            policy.feishu_tenants.permits(c.space_id)
            and policy.feishu_chats.permits(c.chat_id)
            and policy.feishu_users.permits(c.user_id)
        )
    return True


def place_key(conversation: Conversation) -> str:
    """Where a once-notice is remembered: the chat (a DM is its own place)."""
    return f"{conversation.platform.value}:{conversation.chat_id}"
