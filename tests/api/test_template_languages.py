"""The template API per language: list, save and preview a version; unknown languages are a 400."""
import pytest

from smsdesk.services.template_kinds import KINDS


@pytest.fixture
def owner(make):
    return {"Authorization": f"Bearer {make.token(role='owner')}"}


def test_list_in_a_language_and_by_default_the_stores(client, make, owner):
    store = make.store(default_language="de")
    answer = client.get(f"/api/stores/{store.slug}/templates", headers=owner).json
    assert answer["language"] == "de" and answer["default_language"] == "de"
    assert answer["templates"][0]["body"].startswith("{{ store.name }}: {% if customer.first_name %}Hallo")
    spanish = client.get(f"/api/stores/{store.slug}/templates?language=es-MX", headers=owner).json
    assert spanish["language"] == "es" and {t["language"] for t in spanish["templates"]} == {"es"}
    assert [t["kind"] for t in spanish["templates"]] == list(KINDS)
    italian = client.get(f"/api/stores/{store.slug}/templates?language=it", headers=owner).json
    assert {t["language"] for t in italian["templates"]} == {"de"}  # no Italian: the store's default


def test_put_a_spanish_version_leaves_english_alone(client, make, owner):
    store = make.store()
    url = f"/api/stores/{store.slug}/templates/order_confirmed"
    response = client.put(url, headers=owner, json={"body": "{{ store.name }}: ¡gracias! #{{ order.number }}",
                                                    "language": "es"})
    assert response.status_code == 200
    assert (response.json["language"], response.json["customized"], response.json["encoding"]) == ("es", True, "GSM-7")
    english = client.get(f"/api/stores/{store.slug}/templates", headers=owner).json["templates"][0]
    assert english["customized"] is False and english["language"] == "en"
    listed = client.get(f"/api/stores/{store.slug}/templates?language=es", headers=owner).json["templates"][0]
    assert listed["body"] == "{{ store.name }}: ¡gracias! #{{ order.number }}"
    preview = client.post(f"{url}/preview?language=es", headers=owner)
    assert preview.status_code == 200 and preview.json["text"] == "Acme Outfitters: ¡gracias! #1042"


@pytest.mark.parametrize("call", ["list", "put", "put_query", "preview"])
@pytest.mark.parametrize("language", ["klingon", "x", "12", "zz-"])
def test_unknown_language_is_a_400_with_a_message(client, make, owner, call, language):
    store = make.store()
    url = f"/api/stores/{store.slug}/templates"
    if call == "list":
        response = client.get(f"{url}?language={language}", headers=owner)
    elif call == "put":
        response = client.put(f"{url}/order_shipped", headers=owner, json={"body": "x", "language": language})
    elif call == "put_query":
        response = client.put(f"{url}/order_shipped?language={language}", headers=owner, json={"body": "x"})
    else:
        response = client.post(f"{url}/order_shipped/preview", headers=owner, json={"language": language})
    assert response.status_code == 400, response.json
    assert response.json["error"] == "invalid_language" and "unknown language" in response.json["message"]
