"""The PostgreSQL advisory lock keys of the background relays, in one place so erasure can take them.

Each relay holds its key (transaction-scoped) while it works through outbox rows. Erasing a
workspace takes all of them first, so no relay holds an outbox row or a child row of the workspace
while the erasure deletes them: without that the two take the same rows in opposite orders and
deadlock (the webhook fan-out locks outbox rows and then inserts deliveries that reference the
webhooks the erasure is deleting).
"""

from __future__ import annotations

from typing import Final

SEARCH_RELAY_LOCK: Final = 7_316_402_118
"""Held (exclusively, try-lock) by the search relay: one relay runs at a time."""
MEMORY_RELAY_LOCK: Final = 7_316_402_119
"""Held (exclusively, try-lock) by the memory relay while it indexes a batch."""
WEBHOOK_FANOUT_LOCK: Final = 7_316_402_120
"""Held shared by every webhook fan-out transaction (they run side by side); erasure takes it
exclusively."""

NOTIFICATION_RUN_LOCK: Final = 7_316_402_121
"""Held shared by every notification run (it locks the workspace's preferences row, then inserts
feed items referencing the workspace); erasure takes it exclusively."""

ERASURE_ORDER: Final = (MEMORY_RELAY_LOCK, SEARCH_RELAY_LOCK, WEBHOOK_FANOUT_LOCK, NOTIFICATION_RUN_LOCK)
"""The order erasure takes them in (a relay takes only its own, so no cycle)."""
