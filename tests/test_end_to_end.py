"""The whole path through a real `smsdesk run` process: shop webhook in, text out through
the real twilio library to the Twilio test server, customer reply in, agent reply out."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.factories import inbound_sms, shopify_order, twilio_signature
from webhooks.base import hmac_sha256_base64

pytestmark = pytest.mark.slow
SMSDESK = [sys.executable, "-m", "smsdesk.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service(engine, database_url, twilio_server, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "SMSDESK_DATABASE_URL": database_url, "SMSDESK_SERVER_PUBLIC_URL": base,
        "SMSDESK_TWILIO_ACCOUNT_SID": twilio_server.account_sid, "SMSDESK_TWILIO_AUTH_TOKEN": twilio_server.auth_token,
        "SMSDESK_TWILIO_API_BASE": twilio_server.url, "SMSDESK_SCHEDULER_INTERVAL_SECONDS": "0.2",
    }
    def cli(*args, stdin=None):
        return subprocess.run(SMSDESK + list(args), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              input=stdin)
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen(SMSDESK + ["run", "--port", str(port)], env=env, cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(base, process)
        yield base, cli, tmp_path / "server.log"
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        assert twilio_server.auth_token not in (tmp_path / "server.log").read_text()  # no secrets in logs


def _wait_healthy(base: str, process, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "smsdesk run exited early"
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            time.sleep(0.1)
    raise TimeoutError("smsdesk run did not become healthy")


def post_shopify(base: str, order: dict, *, secret: str, event_id: str):
    body = json.dumps(order).encode()
    return requests.post(base + "/webhooks/shopify", data=body, timeout=5, headers={
        "Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "acme.myshopify.com", "X-Shopify-Event-Id": event_id,
        "X-Shopify-Hmac-Sha256": hmac_sha256_base64(secret.encode(), body)})


def post_twilio(base: str, params: dict, auth_token: str):
    url = base + "/webhooks/twilio/sms"
    return requests.post(url, data=params, timeout=5,
                         headers={"X-Twilio-Signature": twilio_signature(auth_token, url, params)})


def test_order_text_reply_roundtrip(service, twilio_server):
    base, cli, server_log = service
    added = cli("store", "add", "--slug", "acme", "--name", "Acme Outfitters", "--platform", "shopify",
                "--domain", "acme.myshopify.com", "--from-number", "+15005550006", stdin="shpss_e2e\n")
    assert added.returncode == 0, added.stderr  # the secret came from stdin, not the command line
    assert cli("agent", "add", "--email", "ann@example.com", "--role", "owner", "--store", "acme",
               stdin="long enough pw\nlong enough pw\n").returncode == 0
    token = cli("token", "create", "--email", "ann@example.com").stdout.strip()

    order = shopify_order(phone=None)  # the customer's phone comes from the address: "+1(502)-459-2181"
    assert post_shopify(base, order, secret="shpss_e2e", event_id="e2e-1").json() == {"status": "accepted"}
    [text] = twilio_server.wait_for_messages(1, timeout=5)
    assert text["to"] == "+15024592181" and "#1001" in text["body"] and text["from"] == "+15005550006"

    assert post_shopify(base, order, secret="shpss_e2e", event_id="e2e-1").json() == {"status": "duplicate"}
    assert post_shopify(base, order, secret="shpss_e2e", event_id="e2e-2").json() == {"status": "accepted"}
    time.sleep(1.0)  # five scheduler ticks: a second text would have gone out by now
    assert len(twilio_server.messages) == 1

    inbound = inbound_sms(to="+15005550006", from_="+15024592181", body="Can I change the address?")
    assert post_twilio(base, inbound, twilio_server.auth_token).status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    [row] = requests.get(base + "/api/conversations", headers=auth, timeout=5).json()["conversations"]
    assert row["customer_phone"] == "+15024592181" and row["last_message"]["body"] == "Can I change the address?"
    assert row["latest_order"]["number"] == "1001"

    reply = requests.post(f"{base}/api/conversations/{row['id']}/messages", json={"body": "Yes - send it here."},
                          headers=auth, timeout=5)
    assert reply.status_code == 202
    texts = twilio_server.wait_for_messages(2, timeout=5)
    assert (texts[1]["to"], texts[1]["body"]) == ("+15024592181", "Yes - send it here.")
    logged = server_log.read_text()
    assert "smsdesk on http" in logged  # the log is there to read
    assert "shpss_e2e" not in logged and "+15024592181" not in logged and "5024592181" not in logged
