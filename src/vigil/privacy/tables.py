"""The privacy package's tables (mirrored by migrations ``privacy_0001_tables`` and
``privacy_0002_notify_mail``)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from vigil.store.schema import metadata
from vigil.store.types import UTCDateTime

# Clear identifiers, encrypted (AES-GCM, the pseudonym as associated data). Read only by ``reveal``.
identity_vault = Table(
    "identity_vault",
    metadata,
    Column("pseudonym", String(40), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("platform", String(64), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Which items mention which pseudonym: lets retention drop vault entries nothing refers to any more.
identity_refs = Table(
    "identity_refs",
    metadata,
    Column("pseudonym", String(40), primary_key=True),
    Column("item_id", String(32), primary_key=True),
    Index("ix_identity_refs_item", "item_id"),
)

# Users granted a privacy right (e.g. a verifier allowed to reveal) beyond what their role gives.
privacy_grants = Table(
    "privacy_grants",
    metadata,
    Column("actor", String(128), primary_key=True),
    Column("privilege", String(32), primary_key=True),
    Column("granted_by", String(128), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
)

legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target_type", String(16), nullable=False),  # item | case | account
    Column("target_id", String(512), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("lifted_at", UTCDateTime),
    Column("lifted_by", String(128)),
    Index("ix_legal_holds_target", "target_type", "target_id"),
)

dnr_entries = Table(
    "dnr_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # url | domain | account | channel | sha256 | pdq
    Column("value", String(2048), nullable=False),  # normalised; a pseudonym for accounts and channels
    Column("alt_value", String(512)),  # accounts: the handle pseudonym
    Column("owner", String(128), nullable=False),
    Column("reason", Text, nullable=False),  # never shown to whoever is blocked
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("lifted_at", UTCDateTime),
    Column("lifted_by", String(128)),
    Index("ix_dnr_entries_kind_value", "kind", "value"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("case_id", Integer, nullable=False),
    Column("entry_id", Integer, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),  # by webhook
    # By e-mail (migration privacy_0002_notify_mail): when the server accepted it; failed tries since then,
    # the last reason and when to try next; a claim so that two runs never send the same one.
    Column("mail_delivered_at", UTCDateTime),
    Column("mail_tries", Integer, nullable=False, server_default="0"),
    Column("mail_error", Text),
    Column("mail_next_at", UTCDateTime),
    Column("mail_claimed_until", UTCDateTime),
    UniqueConstraint("recipient", "kind", "case_id", "entry_id", name="uq_notifications_once"),
)

# One case per reported URL or content hash, whoever reports it.
case_targets = Table(
    "case_targets",
    metadata,
    Column("kind", String(16), primary_key=True),  # url | sha256
    Column("value", String(2048), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Index("ix_case_targets_case", "case_id"),
)

case_submitters = Table(
    "case_submitters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("submitter", String(128), nullable=False),
    Column("org", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(2048), nullable=False),
    Column("note", Text),
    Column("submitted_at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id", "submitter", "org", name="uq_case_submitters_once"),
)
