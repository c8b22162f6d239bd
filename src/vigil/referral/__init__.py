"""Referral: hosting-provider resolution, removal orders and notices, delivery, re-checks, reports."""
