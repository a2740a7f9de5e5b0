"""Status callbacks of the Twilio test server (tests/support/twilio_server.py): signed POSTs
to a message's StatusCallback, sent when a test asks (``send_status_callback``) or by
themselves after each accepted message (the server's ``auto_callbacks``)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from tests.support.twilio_http import API_VERSION, RecordedCallback

# The "From" a messaging-service send reports in callbacks (Twilio picks one from the pool).
SERVICE_POOL_NUMBER = "+15005550006"
FAILED_STATUSES = frozenset({"failed", "undelivered"})


class StatusCallbacks:
    """Mixed into TwilioTestServer: its lock, messages, settings and HTTP session do the work."""

    _cond: threading.Condition
    _messages: dict[str, dict]
    _meta: dict[str, dict[str, Any]]
    _callbacks: list[RecordedCallback]
    _generation: int
    _stopping: threading.Event
    _http: requests.Session
    account_sid: str
    auth_token: str
    auto_callbacks: tuple[str, ...] | list[str]
    auto_callback_delay: float
    callback_timeout: float
    set_status: Callable[..., None]  # the server's: a message's status changed where list and fetch see it
    _sleep: Callable[[float], None]

    def send_status_callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        minimal: bool = False,
        url: str | None = None,
    ) -> int:
        """Set ``status`` and POST a signed callback to the message's StatusCallback.

        Returns the receiver's HTTP status; raises ``requests.RequestException`` when the
        receiver cannot be reached. ``minimal`` sends only MessageSid and MessageStatus.
        """
        with self._cond:
            target = url or self._meta[sid]["status_callback"]
            if not target:
                raise ValueError(f"message {sid} has no StatusCallback")
            self.set_status(sid, status, error_code=error_code)
            params = self._callback_params(self._messages[sid], minimal)
        return self._post_callback(sid, status, target, params)

    def _start_callbacks(self, sid: str) -> None:
        with self._cond:
            statuses = list(self.auto_callbacks)
            wanted = statuses and self._meta.get(sid, {}).get("status_callback")
            generation = self._generation
        if wanted:
            threading.Thread(
                target=self._run_callbacks, args=(sid, statuses, generation), name=f"callbacks-{sid}", daemon=True
            ).start()

    def _run_callbacks(self, sid: str, statuses: list[str], generation: int) -> None:
        for status in statuses:
            self._sleep(self.auto_callback_delay)
            if self._stopping.is_set() or generation != self._generation:
                return
            try:
                self.send_status_callback(sid, status)
            except requests.RequestException:
                continue  # recorded in callbacks; Twilio does not retry status callbacks either
            except KeyError:
                return  # reset() forgot the message meanwhile

    def _callback_params(self, message: dict, minimal: bool) -> dict[str, str]:
        params = {"MessageSid": message["sid"], "MessageStatus": message["status"]}
        if minimal:
            return params
        params.update(
            SmsSid=message["sid"],
            SmsStatus=message["status"],
            To=message["to"],
            From=message["from"] or SERVICE_POOL_NUMBER,
            AccountSid=self.account_sid,
            ApiVersion=API_VERSION,
        )
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if message["status"] in FAILED_STATUSES:
            params["ErrorCode"] = str(message["error_code"])
        return params

    def _post_callback(self, sid: str, status: str, url: str, params: dict[str, str]) -> int:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        http_status, error = None, None
        try:
            response = self._http.post(
                url, data=params, headers=headers, timeout=self.callback_timeout, allow_redirects=False
            )
            http_status = response.status_code
        except requests.RequestException as exc:
            error = repr(exc)
            raise
        finally:
            with self._cond:
                self._callbacks.append(RecordedCallback(sid, status, url, params, signature, http_status, error))
                self._cond.notify_all()
        return http_status
