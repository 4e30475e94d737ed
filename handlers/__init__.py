"""The Telegram surfaces: updates in, calls on bot's services, messages and keyboards out."""
