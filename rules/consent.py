"""Consumer text consent: reply keywords and plain-words opt-outs (SPEC §7)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT-OUT"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

# Requests to stop in other words, in English and Spanish. They opt out and are
# flagged for staff; no reply is sent to them.
_FREE_TEXT_STOP = re.compile(
    r"""\b(
        stop\s+(texting|messaging|sending|contacting|the\s+texts|these\s+texts)
      | no\s+more\s+(texts|messages|text\s+messages)
      | (do\s+not|don'?t|dont)\s+(text|message|contact)\s+me
      | (remove|take)\s+me\s+(off|from)
      | please\s+stop | stop\s+please | stop\s+it
      | unsubscribe\s+me
      | leave\s+me\s+alone
      | no\s+m[aá]s\s+(mensajes|textos)
      | (deja|dejen|dejar)\s+de\s+(enviar|mandar|escribir)\w*
      | no\s+me\s+(env[ií]en|manden|escriban|contacten)
      | (ya\s+)?no\s+quiero\s+(m[aá]s\s+)?(mensajes|textos)
      | b[oó]rr(a|en)me
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass
class ConsentChange:
    state: str
    source: str
    disclosure_version: str | None


@dataclass
class Reply:
    new_state: str | None = None
    keyword: str | None = None
    help: bool = False
    flag_for_staff: bool = False

    @property
    def source(self) -> str:
        """Where the consent change it makes comes from, as stored: sms:STOP, sms:free_text."""
        return f"sms:{self.keyword or 'free_text'}"


# "Don't stop texting me" is not a request to stop.
_NEGATED_STOP = re.compile(r"\b(don'?t|do\s+not|never|no\s+need\s+to)\s+stop\b", re.IGNORECASE)


def _is_trim(char: str) -> bool:
    category = unicodedata.category(char)
    return char.isspace() or category[0] in ("P", "Z") or category == "Cf"


def normalise(body: str) -> str:
    """The message trimmed of spaces and punctuation (any script's: ¡ ¿ … “ ”), upper case."""
    start, end = 0, len(body)
    while start < end and _is_trim(body[start]):
        start += 1
    while end > start and _is_trim(body[end - 1]):
        end -= 1
    return body[start:end].upper()


def classify_reply(body: str) -> Reply:
    word = normalise(body)
    if word in STOP_WORDS:
        return Reply(new_state="opted_out", keyword=word)
    if word in START_WORDS:
        return Reply(new_state="opted_in", keyword=word)
    if word in HELP_WORDS:
        return Reply(keyword=word, help=True)
    if _FREE_TEXT_STOP.search(body) and not _NEGATED_STOP.search(body):
        return Reply(new_state="opted_out", flag_for_staff=True)
    return Reply()
