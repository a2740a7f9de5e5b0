"""One APScheduler per worker process, running a few interval jobs that sweep indexed columns."""
from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from jobs.fetch_pending import fetch_pending
from jobs.reconcile import reconcile
from jobs.retention import purge_payloads
from jobs.send_due import send_due

RECONCILE_EVERY = 30.0  # seconds
FETCH_PENDING_EVERY = 5.0  # seconds between sweeps for BigCommerce deliveries to fetch
RETENTION_EVERY = 3600.0  # seconds


def status_callback_url(app: Flask) -> str:
    return app.config["SMSDESK"].server.public_url.rstrip("/") + "/webhooks/twilio/status"


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
                              "concurrency": config.scheduler.concurrency},
                      seconds=config.scheduler.interval_seconds, id="send_due")
    # A stranded text waits at most a lease plus half a lease before reconcile looks it up.
    scheduler.add_job(reconcile, "interval", args=(sessions, provider), kwargs={"lease": lease},
                      seconds=min(RECONCILE_EVERY, lease / 2), id="reconcile")
    scheduler.add_job(fetch_pending, "interval", args=(sessions,), seconds=FETCH_PENDING_EVERY, id="fetch_pending")
    scheduler.add_job(purge_payloads, "interval", args=(sessions,), seconds=RETENTION_EVERY, id="retention")
    return scheduler


def init_app(app: Flask) -> None:
    app.extensions["smsdesk.scheduler_factory"] = lambda: create_scheduler(app)
