"""Telegram I/O, one module per feature: parse the update, call the domain, render the reply."""
