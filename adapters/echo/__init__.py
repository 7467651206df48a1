"""The smallest platform: an in-memory chat (tests and the architecture doc use it to show what a platform
must write). No network, no attachments; everything else goes through the platform contract."""
