"""Shop platforms' own APIs, for payloads that only name what changed (BigCommerce)."""
