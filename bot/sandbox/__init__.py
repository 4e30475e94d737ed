"""Trying the desk without Telegram: the Bot API emulator and the terminal sandbox."""
