"""One notifier for the worker: SMS and email each go to their provider when
its settings are given, otherwise to the console notifier."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from notifiers.base import Delivery, Notifier, OutgoingMessage
from notifiers.console import ConsoleNotifier

log = logging.getLogger("ips.notifiers")


class ChannelRouter:
    def __init__(self, by_channel: Mapping[str, Notifier], fallback: Notifier) -> None:
        self._by_channel = dict(by_channel)
        self._fallback = fallback

    def send(self, message: OutgoingMessage) -> Delivery:
        return self._by_channel.get(message.channel, self._fallback).send(message)


def notifier_from_environment(environ: Mapping[str, str]) -> Notifier:
    """The worker's notifier. Malformed provider settings raise ValueError naming
    the setting, so that a mistake stops start-up instead of losing messages."""
    # Imported here: the provider SDKs are heavy, and `notifiers` is passed
    # through the workflow sandbox.
    from notifiers.sendgrid_email import (
        API_KEY_SETTING,
        FROM_EMAIL_SETTING,
        FROM_NAME_SETTING,
        HOST_SETTING,
        SendGridEmailNotifier,
    )
    from notifiers.twilio_sms import TwilioSmsNotifier

    by_channel: dict[str, Notifier] = {}
    sms = TwilioSmsNotifier.from_environment(environ)
    if sms is not None:
        by_channel["sms"] = sms
    else:
        log.warning("No Twilio settings (IPS_TWILIO_*): text messages are logged, not sent.")
    api_key = environ.get(API_KEY_SETTING, "").strip()
    if api_key:
        from_email = environ.get(FROM_EMAIL_SETTING, "").strip()
        if not from_email:
            raise ValueError(f"{FROM_EMAIL_SETTING} is not set: SendGrid needs a sender address")
        by_channel["email"] = SendGridEmailNotifier(
            api_key,
            from_email=from_email,
            from_name=environ.get(FROM_NAME_SETTING, "").strip() or None,
            host=environ.get(HOST_SETTING, "").strip() or None,
        )
    else:
        log.warning("No SendGrid settings (IPS_SENDGRID_*): emails are logged, not sent.")
    # The SDKs log request details at INFO; the outbox keeps what matters.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    return ChannelRouter(by_channel, ConsoleNotifier())
