"""The desk's rules and the running program: tickets, deadlines, settings, the CLI, the sandbox."""
