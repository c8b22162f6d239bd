"""Watch: registered sources checked on a schedule, retried with back-off, their health on record."""
