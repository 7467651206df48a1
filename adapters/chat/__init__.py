"""The chat kit: what every chat platform adapter (Discord, Feishu, the console, a new one) shares.

- ``texts``: the platform's message catalog (core's plus its own ``messages.toml``), button labels, the
  internal-error reply, and the user's language guess (the core's).
- ``actions``: the one encoding of a button's action and target (``imabot:<action>:<target>``).
- ``status``: the throttled, coalescing editor of a job's one status message.
- ``delivery``: result files fetched under a cap into one temp dir (then uploaded by the platform, or
  offered as a link when they cannot be).
"""
