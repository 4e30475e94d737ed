"""Getting updates in and messages out: fetching, the inbox, the outbox and its sender, the HTTP
transport, and the order updates are handled in."""
