"""The union calendar, scheduled jobs and the broadcast outbox (built in the calendar work)."""
