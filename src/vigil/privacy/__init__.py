"""Lawful processing: pseudonymised identities, de-anonymisation with a reason, retention by data class,
legal holds, the processing register, the de-confliction ("do not refer") gate and de-duplication of
submissions. See docs/privacy.md.

This package builds on ``vigil.store`` and ``vigil.audit.log``; the store reaches it only through
the ``IdentityGuard`` it is given (``vigil.store.store.IdentityGuard``).
"""
