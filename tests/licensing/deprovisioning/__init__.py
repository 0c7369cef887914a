"""Deprovisioning against real connected systems on 127.0.0.1."""

# The bearer token the local SCIM server accepts: never to appear in a log or a message.
SCIM_TOKEN = "scim-token-not-for-logs"
