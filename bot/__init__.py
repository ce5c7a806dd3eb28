"""Union Desk (工会助手): wiring, settings, CLI and i18n for the union Telegram bot."""
