"""One notifier for the worker: SMS and email each go to their provider when
its settings are given (or IPS_SMS_NOTIFIER / IPS_EMAIL_NOTIFIER choose it),
otherwise to the console notifier."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from notifiers.base import Delivery, Notifier, OutgoingMessage
from notifiers.console import ConsoleNotifier

if TYPE_CHECKING:
    from config import Settings

log = logging.getLogger("ips.notifiers")


class ChannelRouter:
    def __init__(self, by_channel: Mapping[str, Notifier], fallback: Notifier) -> None:
        self._by_channel = dict(by_channel)
        self._fallback = fallback

    def send(self, message: OutgoingMessage) -> Delivery:
        return self.for_channel(message.channel).send(message)

    def for_channel(self, channel: str) -> Notifier:
        """The notifier messages on `channel` go to."""
        return self._by_channel.get(channel, self._fallback)


def notifier_from_settings(settings: Settings) -> Notifier:
    """The worker's notifier. Malformed provider settings raise ValueError naming
    the setting, so that a mistake stops start-up instead of losing messages."""
    by_channel: dict[str, Notifier] = {}
    sms = sms_notifier_from_settings(settings)
    if sms is not None:
        by_channel["sms"] = sms
    elif settings.sms_notifier == "console":
        log.warning("IPS_SMS_NOTIFIER is console: text messages are logged, not sent.")
    else:
        log.warning("No Twilio settings (IPS_TWILIO_*): text messages are logged, not sent.")
    email = email_notifier_from_settings(settings)
    if email is not None:
        by_channel["email"] = email
    elif settings.email_notifier == "console":
        log.warning("IPS_EMAIL_NOTIFIER is console: emails are logged, not sent.")
    else:
        log.warning("No SendGrid settings (IPS_SENDGRID_*): emails are logged, not sent.")
    # The SDKs log request details at INFO; the outbox keeps what matters.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    return ChannelRouter(by_channel, ConsoleNotifier())


def sms_notifier_from_settings(settings: Settings) -> Notifier | None:
    """Twilio's notifier as IPS_SMS_NOTIFIER chooses it; None: texts are only logged."""
    # Imported here: the provider SDKs are heavy, and `notifiers` is passed
    # through the workflow sandbox.
    from notifiers.twilio_sms import ACCOUNT_SID_SETTING, AUTH_TOKEN_SETTING, TwilioSmsNotifier

    if settings.sms_notifier == "console":
        return None
    sms = TwilioSmsNotifier.from_settings(settings)
    if sms is None and settings.sms_notifier == "twilio":
        raise ValueError(
            f"IPS_SMS_NOTIFIER is twilio, but {ACCOUNT_SID_SETTING} and {AUTH_TOKEN_SETTING} "
            "are not set: set them, or choose IPS_SMS_NOTIFIER=console to only log texts"
        )
    return sms


def email_notifier_from_settings(settings: Settings) -> Notifier | None:
    """SendGrid's notifier as IPS_EMAIL_NOTIFIER chooses it; None: emails are only logged."""
    from notifiers.sendgrid_email import API_KEY_SETTING, SendGridEmailNotifier

    if settings.email_notifier == "console":
        return None
    email = SendGridEmailNotifier.from_settings(settings)
    if email is None and settings.email_notifier == "sendgrid":
        raise ValueError(
            f"IPS_EMAIL_NOTIFIER is sendgrid, but {API_KEY_SETTING} is not set: set it, or "
            "choose IPS_EMAIL_NOTIFIER=console to only log emails"
        )
    return email
