"""Bounce emails: Postfix pipes each message sent to a member's bounce address (or a list's) to
`flask bounces process-dsn`; it is read here, bounded, and handed to maillist.intake."""
