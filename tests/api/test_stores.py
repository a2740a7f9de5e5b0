"""Owner store settings API: GET and PATCH /api/stores/<slug>, 422 on a bad value."""
import pytest

from smsdesk.models import Store


@pytest.fixture
def owner(make):
    return {"Authorization": f"Bearer {make.token(role='owner')}"}


def test_get_shows_settings_without_secrets(client, make, owner):
    store = make.store(name="Nordic Knits", help_text="help@knits.example")
    response = client.get(f"/api/stores/{store.slug}", headers=owner)
    assert response.status_code == 200
    assert response.json["name"] == "Nordic Knits" and response.json["help_text"] == "help@knits.example"
    assert response.json["quiet_hours"] == "20:00-08:00"
    assert store.webhook_secret not in response.get_data(as_text=True)


def test_patch_changes_and_normalizes(client, make, owner, db_session):
    store = make.store()
    changes = {"name": "Renamed", "timezone": "Europe/Berlin", "quiet_hours": "21:00-09:00",
               "from_number": "(502) 555-0199", "messaging_service_sid": "MG" + "c" * 32,
               "rate_per_second": 2.5, "help_text": "Call us", "send_opt_out_confirmation": False}
    response = client.patch(f"/api/stores/{store.slug}", headers=owner, json=changes)
    assert response.status_code == 200 and response.json["from_number"] == "+15025550199"
    db_session.fresh()
    saved = db_session.get(Store, store.id)
    assert (saved.name, saved.timezone, saved.quiet_hours, saved.rate_per_second) == \
        ("Renamed", "Europe/Berlin", "21:00-09:00", 2.5)
    assert saved.send_opt_out_confirmation is False


@pytest.mark.parametrize("changes, words", [
    ({"timezone": "Mars/Olympus"}, "time zone"),
    ({"quiet_hours": "8pm-8am"}, "quiet_hours"),
    ({"from_number": "not a phone"}, "phone"),
    ({"rate_per_second": 0}, "rate_per_second"),
    ({"rate_per_second": True}, "rate_per_second"),
    ({"name": "  "}, "name"),
    ({"name": 5}, "name"),
    ({"webhook_secret": "x"}, "unknown setting"),
    ({"help_text": "x" * 1001}, "help_text"),
    ({"send_opt_out_confirmation": "no"}, "send_opt_out_confirmation"),
    ({"send_opt_out_confirmation": 0}, "send_opt_out_confirmation"),
])
def test_patch_refuses_bad_values(client, make, owner, db_session, changes, words):
    store = make.store(name="Before")
    response = client.patch(f"/api/stores/{store.slug}", headers=owner, json=changes)
    assert response.status_code == 422 and words in response.json["message"]
    db_session.fresh()
    assert db_session.get(Store, store.id).name == "Before"


def test_patch_needs_a_json_object(client, make, owner):
    store = make.store()
    response = client.patch(f"/api/stores/{store.slug}", headers=owner, data="[1]", content_type="application/json")
    assert response.status_code == 400 and response.json["message"] == "the body must be a JSON object"


def test_unknown_store_is_404(client, make, owner):
    assert client.get("/api/stores/nope", headers=owner).status_code == 404
    assert client.patch("/api/stores/nope", headers=owner, json={"name": "x"}).status_code == 404


def test_agent_token_is_403(client, make):
    store = make.store()
    agent = {"Authorization": f"Bearer {make.token(role='agent')}"}
    assert client.patch(f"/api/stores/{store.slug}", headers=agent, json={"name": "x"}).status_code == 403


@pytest.mark.parametrize("raw, field", [
    ('{"rate_per_second": 1e-300}', "rate_per_second"),
    ('{"rate_per_second": -2}', "rate_per_second"),
    ('{"rate_per_second": 1e9}', "rate_per_second"),
    ('{"quiet_hours": "25:00-08:00"}', "quiet_hours"),
    ('{"quiet_hours": "20:00"}', "quiet_hours"),
    ('{"timezone": "Mars/Olympus"}', "timezone"),
    ('{"timezone": ""}', "timezone"),
    ('{"from_number": "12"}', "from_number"),
    ('{"name": 5}', "name"),
    ('{"webhook_secret": "x"}', "webhook_secret"),
])
def test_patch_422_names_the_field(client, make, owner, db_session, raw, field):
    store = make.store()
    response = client.patch(f"/api/stores/{store.slug}", headers=owner, data=raw, content_type="application/json")
    assert response.status_code == 422
    assert (response.json["error"], response.json["field"]) == ("invalid_value", field)
    assert field in response.json["message"]
    db_session.fresh()
    assert db_session.get(Store, store.id).rate_per_second == store.rate_per_second


@pytest.mark.parametrize("rate", [0.01, 1, 3.5, 1000])
def test_patch_takes_rates_in_range(client, make, owner, rate):
    store = make.store()
    response = client.patch(f"/api/stores/{store.slug}", headers=owner, json={"rate_per_second": rate})
    assert response.status_code == 200 and response.json["rate_per_second"] == rate


@pytest.mark.parametrize("setting, value", [("from_number", "+14155550100"),
                                            ("messaging_service_sid", "MG" + "d" * 32)])
def test_another_stores_sender_is_409(client, make, db_session, setting, value):
    make.store(**{setting: value})
    mine = make.store()
    owner = {"Authorization": f"Bearer {make.token(make.agent(role='owner', stores=[mine]))}"}
    response = client.patch(f"/api/stores/{mine.slug}", headers=owner, json={setting: value})
    assert response.status_code == 409 and response.json["error"] == "sender_taken"
    assert response.json["field"] == setting and "message" in response.json
    db_session.fresh()
    assert getattr(db_session.get(Store, mine.id), setting) != value
    # Its own sender again is no clash.
    own = getattr(mine, setting)
    assert client.patch(f"/api/stores/{mine.slug}", headers=owner, json={setting: own}).status_code == 200
