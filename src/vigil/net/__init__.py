"""The one guarded network stack: HTTP with the SSRF rule, DNS pinning, per-host limits, robots.txt and
TLS settings; DNS answers recorded as evidence; signed webhooks; SMTP."""
