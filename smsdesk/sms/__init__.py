"""SMS providers behind one interface (smsdesk.sms.base), chosen by ``[sms] provider``."""
from __future__ import annotations

from smsdesk.config import Config
from smsdesk.sms.base import SmsProvider


def create_provider(config: Config) -> SmsProvider:
    """The provider the configuration asks for."""
    if config.sms.provider == "twilio":
        from smsdesk.sms import twilio_provider  # imports the twilio library only when used

        return twilio_provider.create_provider(
            account_sid=config.twilio.account_sid, auth_token=config.twilio.auth_token,
            api_base=config.twilio.api_base,
            timeout=twilio_provider.timeout_for_lease(config.scheduler.lease_seconds),
        )
    from smsdesk.sms.simulator import SimulatorProvider

    return SimulatorProvider()


def init_app(app) -> None:
    from smsdesk.sms.twilio_media import create_fetcher

    app.extensions["smsdesk.provider"] = create_provider(app.config["SMSDESK"])
    # Customers' pictures are fetched from Twilio with the account's credentials (services/media.py).
    app.extensions["smsdesk.media_fetcher"] = create_fetcher(app.config["SMSDESK"])
