"""The web UI for agents and owners (inbox, templates, dashboard, phone simulator)."""
from __future__ import annotations

from flask import Flask, redirect


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "index", lambda: redirect("/healthz"))
