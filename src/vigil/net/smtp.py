"""The one SMTP client: settings from ``[smtp]`` in config.toml (host, port = 587, from, starttls = true,
cafile, username, password, timeout = 20), a session that sends one or more messages over one connection,
and header values made safe (no line breaks or control characters can end a header and start another)."""

from __future__ import annotations

import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from types import TracebackType
from typing import Any

from vigil.config import Config
from vigil.errors import ConfigError, VigilError

# Unicode categories that may end a line somewhere (CR, LF, NEL, U+2028/9, FS/GS/RS) or hide text.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class MailFailed(VigilError):
    """The server could not be reached, TLS or login failed, or the connection dropped."""


def header_text(value: object, limit: int = 200) -> str:
    """``value`` as one line fit for a header: every control, format or line-separator character becomes
    a space, runs of spaces become one, and the result is cut to ``limit`` characters."""
    text = "".join(" " if unicodedata.category(c) in _UNSAFE else c for c in str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def body_text(value: object) -> str:
    """``value`` as message body: every kind of line break becomes LF, tabs stay, other control
    characters and unpaired surrogates are dropped (letters, marks and joiners are kept)."""
    lines = str(value).splitlines()
    return "\n".join(
        "".join(c for c in line if c == "\t" or unicodedata.category(c) not in ("Cc", "Cs")) for line in lines
    )


def checked_address(value: object, where: str) -> str:
    """A bare address (``name@domain``), or a ``ConfigError`` naming ``where``."""
    raw = str(value).strip() if isinstance(value, str) else ""
    _name, addr = parseaddr(raw)
    ok = (
        bool(raw)
        and addr == raw
        and len(raw) <= 254
        and raw.count("@") == 1
        and all(part for part in raw.split("@"))
        and not any(c.isspace() or unicodedata.category(c) in _UNSAFE or c in "<>,;\"'()[]\\" for c in raw)
    )
    if not ok:
        raise ConfigError(f"{where}: not an e-mail address: {value!r}")
    return raw


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 587
    starttls: bool = True
    cafile: str | None = None
    username: str = ""
    password: str = ""
    timeout: float = 20.0

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1]

    @classmethod
    def from_config(cls, config: Config) -> SmtpSettings:
        raw: Any = config.extra.get("smtp") or {}
        if not isinstance(raw, dict) or not raw.get("host") or not raw.get("from"):
            raise ConfigError("e-mail delivery needs [smtp] host and from in config.toml")
        try:
            port, timeout = int(raw.get("port", 587)), float(raw.get("timeout", 20))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[smtp] port and timeout must be numbers: {exc}") from exc
        return cls(
            host=str(raw["host"]),
            sender=checked_address(raw["from"], "smtp.from"),
            port=port,
            starttls=bool(raw.get("starttls", True)),
            cafile=str(raw["cafile"]) if raw.get("cafile") else None,
            username=str(raw.get("username") or ""),
            password=str(raw.get("password") or ""),
            timeout=timeout,
        )


class SmtpSession:
    """``with SmtpSession(settings) as s: reason = s.send(msg)``. Connecting (with STARTTLS unless
    ``starttls = false``, then login when a username is set) raises ``MailFailed`` with the reason."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        s = self.settings
        where = f"SMTP server {s.host}:{s.port}"
        try:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailFailed(f"{where} unreachable: {type(exc).__name__}: {exc}") from exc
        try:
            client.ehlo()
            if s.starttls:
                client.starttls(context=ssl.create_default_context(cafile=s.cafile))
                client.ehlo()
            if s.username:
                client.login(s.username, s.password)
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            client.close()
            raise MailFailed(f"{where}: {type(exc).__name__}: {exc}") from exc
        self._client = client
        return self

    def send(self, msg: EmailMessage) -> str | None:
        """None once the server accepted ``msg`` for every recipient, else the server's reason. A lost
        connection raises ``MailFailed``."""
        assert self._client is not None, "use SmtpSession as a context manager"
        try:
            refused = self._client.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            return "; ".join(f"{to}: {_reply(*r)}" for to, r in exc.recipients.items())
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return _reply(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise MailFailed(f"SMTP server {self.settings.host}: {type(exc).__name__}: {exc}") from exc
        if refused:
            return "; ".join(f"{to}: {_reply(*r)}" for to, r in refused.items())
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {header_text(message, 300)}"
