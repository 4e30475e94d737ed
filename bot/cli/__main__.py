"""`python -m bot.cli`: the same as the `fengqiao` command."""

from bot.cli import main

raise SystemExit(main())
