"""The template editor's languages: versions side by side, what is missing, the default language."""
from sqlalchemy import select

from smsdesk.models import Store, Template


def test_the_languages_of_a_kind_side_by_side_with_what_is_missing(browser, owner, make, db_session):
    store = make.store()
    make.customer(store, "+15025550111", language="it")
    make.customer(store, "+15025550112", language="es")
    html = browser.get(f"/templates?store={store.slug}&kind=order_cancelled").get_data(as_text=True)
    for name in ("English", "Spanish", "French", "German", "Italian"):
        assert f">{name}</a>" in html
    italian = html[html.index('data-language="it"'):]
    italian = italian[:italian.index("</tr>")]
    assert "missing" in italian and "falls back to English" in italian and "danger" in italian
    spanish = html[html.index('data-language="es"'):]
    assert "built-in text" in spanish[:spanish.index("</tr>")]


def test_save_a_version_in_a_language(browser, owner, make, db_session):
    store = make.store()
    page = browser.get(f"/templates?store={store.slug}&kind=order_cancelled&language=fr").get_data(as_text=True)
    assert 'name="language" value="fr"' in page and "a été annulée" in page
    response = browser.post(f"/templates/{store.slug}/order_cancelled",
                            {"body": "{{ store.name }} : commande annulée", "enabled": "on", "language": "fr"})
    assert response.status_code == 302 and "language=fr" in response.headers["Location"]
    row = db_session.scalar(select(Template))
    assert (row.language, row.body) == ("fr", "{{ store.name }} : commande annulée")
    html = browser.get(f"/templates?store={store.slug}&kind=order_cancelled").get_data(as_text=True)
    french = html[html.index('data-language="fr"'):]
    assert "your version" in french[:french.index("</tr>")]


def test_an_unknown_language_is_a_400(browser, owner, make):
    store = make.store()
    assert browser.get(f"/templates?store={store.slug}&language=klingon").status_code == 400
    assert browser.post(f"/templates/{store.slug}/order_cancelled",
                        {"body": "x", "language": "??"}).status_code == 400


def test_set_the_store_default_language(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/templates/{store.slug}/language", {"default_language": "es", "kind": "delivered"})
    assert response.status_code == 302 and "kind=delivered" in response.headers["Location"]
    db_session.fresh()
    assert db_session.get(Store, store.id).default_language == "es"
    assert browser.post(f"/templates/{store.slug}/language", {"default_language": "nope!"}).status_code == 400


def test_an_agent_cannot_set_the_default_language(browser, agent, make):
    store = make.store()
    assert browser.post(f"/templates/{store.slug}/language", {"default_language": "es"}).status_code == 403


def test_the_preview_reads_the_back_time_in_the_editors_language(browser, owner, make):
    store = make.store()
    page = browser.get(f"/templates?store={store.slug}&kind=away_message&language=es").get_data(as_text=True)
    assert f"/templates/{store.slug}/away_message/preview?language=es" in page
    body = {"body": "Volvemos {{ hours.back_at }}"}
    said = {language: browser.post_json(f"/templates/{store.slug}/away_message/preview?language={language}",
                                        body).json["text"] for language in ("en", "es", "fr", "de")}
    assert said == {"en": "Volvemos Monday at 9:00 AM", "es": "Volvemos el lunes a las 9:00 a. m.",
                    "fr": "Volvemos lundi à 9 h 00", "de": "Volvemos Montag um 9:00 Uhr"}
    assert browser.post_json(f"/templates/{store.slug}/away_message/preview?language=e!", body).status_code == 400
