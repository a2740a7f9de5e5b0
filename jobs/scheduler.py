"""One APScheduler per worker process, running a few interval jobs that sweep indexed columns."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from jobs.apply_events import apply_events
from jobs.assignment_timeout import return_unanswered
from jobs.catch_up import catch_up_stores
from jobs.fetch_pending import fetch_pending
from jobs.reconcile import reconcile
from jobs.retention import purge_message_bodies, purge_payloads
from jobs.send_due import send_due

RECONCILE_EVERY = 30.0  # seconds
# Seconds between sweeps for received webhook deliveries; a webhook served by this process
# also starts the sweep at once (a separate ``smsdesk worker`` relies on the sweep alone).
APPLY_EVERY = 0.5
FETCH_PENDING_EVERY = 5.0  # seconds between sweeps for BigCommerce deliveries to fetch
RETENTION_EVERY = 3600.0  # seconds
# Seconds between looks for stores due a catch-up poll (each store is polled every
# catch_up.interval_seconds; a look finds the ones due).
CATCH_UP_EVERY = 30.0
ASSIGNMENT_TIMEOUT_EVERY = 15.0  # seconds: how late past its answer time a conversation may go back


def status_callback_url(app: Flask) -> str:
    return app.config["SMSDESK"].server.public_url.rstrip("/") + "/webhooks/twilio/status"


def media_base_url(app: Flask) -> str:
    """Where Twilio fetches the pictures agents attach (web/media.py: /media/<token>)."""
    return app.config["SMSDESK"].server.public_url.rstrip("/") + "/media"


def create_scheduler(app: Flask) -> BackgroundScheduler:
    """The scheduler with its jobs registered under fixed ids (not started)."""
    config = app.config["SMSDESK"]
    sessions = app.extensions["smsdesk.sessions"]
    provider = app.extensions["smsdesk.provider"]
    callback = status_callback_url(app) if provider.name == "twilio" else None
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    # APScheduler logs a job's exception and runs it again on the next tick.
    lease = config.scheduler.lease_seconds
    scheduler.add_job(send_due, "interval", args=(sessions, provider),
                      kwargs={"status_callback": callback, "lease": lease,
                              "concurrency": config.scheduler.concurrency, "media_base": media_base_url(app)},
                      seconds=config.scheduler.interval_seconds, id="send_due")
    # A stranded text waits at most a lease plus half a lease before reconcile looks it up.
    scheduler.add_job(reconcile, "interval", args=(sessions, provider), kwargs={"lease": lease},
                      seconds=min(RECONCILE_EVERY, lease / 2), id="reconcile")
    scheduler.add_job(apply_events, "interval", args=(sessions,), seconds=APPLY_EVERY, id="apply_events")
    scheduler.add_job(fetch_pending, "interval", args=(sessions,), seconds=FETCH_PENDING_EVERY, id="fetch_pending")
    if config.catch_up.enabled:
        every = {"interval": config.catch_up.interval_seconds, "settle": config.catch_up.settle_seconds}
        scheduler.add_job(catch_up_stores, "interval", args=(sessions,), kwargs=every, seconds=CATCH_UP_EVERY,
                          id="catch_up")
    scheduler.add_job(return_unanswered, "interval", args=(sessions,), seconds=ASSIGNMENT_TIMEOUT_EVERY,
                      id="assignment_timeout")
    scheduler.add_job(purge_payloads, "interval", args=(sessions,), seconds=RETENTION_EVERY, id="retention")
    scheduler.add_job(purge_message_bodies, "interval", args=(sessions,),
                      kwargs={"days": config.retention.message_body_days}, seconds=RETENTION_EVERY,
                      id="message_retention")
    return scheduler


def apply_now(scheduler: BackgroundScheduler):
    """A callable that starts the apply job now (webhooks call it after recording events)."""
    def run_apply_events_now() -> None:
        try:
            scheduler.modify_job("apply_events", next_run_time=datetime.now(timezone.utc))
        except JobLookupError:  # shutting down
            pass
    return run_apply_events_now


class SkippedRunFilter(logging.Filter):
    """Drop APScheduler's warning that a tick found the job still running: a sweep drains
    until nothing is due, so a long one overlaps the next ticks by design (the tick is not
    lost work; the running sweep picks up what became due). Every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


def init_app(app: Flask) -> None:
    def factory() -> BackgroundScheduler:
        scheduler = create_scheduler(app)
        app.extensions["smsdesk.events_received"] = apply_now(scheduler)
        return scheduler

    app.extensions["smsdesk.scheduler_factory"] = factory
    # For one-off runs outside a scheduler (``smsdesk demo``): apply what webhooks recorded.
    app.extensions["smsdesk.apply_events"] = lambda: apply_events(app.extensions["smsdesk.sessions"])
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, SkippedRunFilter) for f in scheduler_log.filters):
        scheduler_log.addFilter(SkippedRunFilter())
