"""Cases, states, SLA timers, roles and the tamper-evident audit log."""
