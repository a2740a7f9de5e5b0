"""The owner's "Automatic answers" page: switches, FAQ entries (422 with the field's error for bad
input, nothing saved), the try box, and the "Automatic" mark in the inbox thread."""
from __future__ import annotations

from sqlalchemy import select

from smsdesk.models import AnswerSettings, FaqEntry
from tests.services.answers_fixtures import answering_store, customer_with, text_in

ENTRY = {"title": "Returns", "questions": "How do I return an item?\n\nWhat is your return policy?\n",
         "answer": "Returns are free within 30 days."}


def test_the_owner_turns_answers_on_and_off(browser, owner, make, db_session):
    store = make.store()
    page = browser.get(f"/answers?store={store.slug}").get_data(as_text=True)
    assert "Automatic answers" in page and 'name="order_status" id="order-status" >' in page  # off by default
    response = browser.post(f"/answers/{store.slug}/settings", {"order_status": "on", "handoff_ack": "on"})
    assert response.status_code == 302 and response.headers["Location"] == f"/answers?store={store.slug}"
    db_session.fresh()
    row = db_session.get_one(AnswerSettings, store.id)
    assert (row.order_status, row.faq, row.handoff_ack) == (True, False, True)
    browser.post(f"/answers/{store.slug}/settings", {})
    db_session.fresh()
    assert not db_session.get_one(AnswerSettings, store.id).order_status


def test_entries_are_added_changed_and_deleted(browser, owner, make, db_session):
    store = make.store()
    assert browser.post(f"/answers/{store.slug}/entries", ENTRY).status_code == 302
    db_session.fresh()
    entry = db_session.scalar(select(FaqEntry).where(FaqEntry.store_id == store.id))
    assert entry.questions == ["How do I return an item?", "What is your return policy?"]
    edit = browser.get(f"/answers?store={store.slug}&edit={entry.id}").get_data(as_text=True)
    assert "Change the entry" in edit and "What is your return policy?</textarea>" in edit
    changed = ENTRY | {"answer": "Returns are free within 60 days."}
    assert browser.post(f"/answers/{store.slug}/entries/{entry.id}", changed).status_code == 302
    db_session.fresh()
    assert db_session.get_one(FaqEntry, entry.id).answer == "Returns are free within 60 days."
    entry_id = entry.id
    assert browser.post(f"/answers/{store.slug}/entries/{entry_id}/delete", {}).status_code == 302
    db_session.fresh()
    assert db_session.get(FaqEntry, entry_id) is None


def test_bad_entries_are_422_with_the_fields_error_and_nothing_saved(browser, owner, make, db_session):
    store = make.store()
    for form, field, words in [
        (ENTRY | {"title": ""}, "title", "A title is needed"),
        (ENTRY | {"questions": " \n "}, "questions", "at least one example question"),
        (ENTRY | {"answer": "x" * 601}, "answer", "at most 600 characters"),
        (ENTRY | {"answer": "Hi {{ customer.first_name }}"}, "answer", "sent as written"),
        (ENTRY | {"title": "bad\x00"}, "title", "be stored (NUL or lone surrogates)"),
    ]:
        response = browser.post(f"/answers/{store.slug}/entries", form)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, field
        assert f'id="e-{field}"' in page and words in page
    db_session.fresh()
    assert db_session.scalars(select(FaqEntry)).all() == []


def test_another_stores_entry_is_404(browser, owner, make, db_session):
    store, other = make.store(), make.store()
    row = FaqEntry(store_id=other.id, title="Theirs", questions=["q"], answer="a")
    db_session.add(row)
    db_session.commit()
    assert browser.post(f"/answers/{store.slug}/entries/{row.id}/delete", {}).status_code == 404
    assert browser.get(f"/answers?store={store.slug}&edit={row.id}").status_code == 404


def test_the_try_box_says_what_would_answer_and_why_not(browser, owner, make, db_session):
    store = answering_store(db_session, make=make)

    def tried(message: str) -> str:
        return browser.post(f"/answers/{store.slug}/try", {"message": message}).get_data(as_text=True)

    page = tried("wheres my oder")
    assert 'data-intent="order_status"' in page and "Answered with the order’s status" in page
    assert "confidence 0.95" in page and "&#39;oder&#39; = order" in page
    page = tried("whats ur return policy")
    assert "Answered with “Returns”" in page
    page = tried("Where is my order? I want to cancel it")
    assert "No automatic answer" in page and "(cancel)" in page
    page = tried("Do you sell gift cards?")
    assert "No automatic answer" in page and "no FAQ entry is close enough (closest:" in page
    page = tried("Mitarbeiter bitte")
    assert "Asks for a person" in page
    response = browser.post(f"/answers/{store.slug}/try", {"message": "  "})
    assert response.status_code == 422 and 'id="e-message"' in response.get_data(as_text=True)


def test_an_agent_may_not_open_the_page(browser, agent, make):
    store = make.store()
    assert browser.get(f"/answers?store={store.slug}").status_code == 403
    assert browser.post(f"/answers/{store.slug}/settings", {"order_status": "on"}).status_code == 403


def test_the_thread_marks_an_automatic_answer(browser, owner, make, db_session):
    store = answering_store(db_session, make=make)
    customer = customer_with(db_session, store, "one")
    message = text_in(db_session, store, customer, "where's my package??")
    page = browser.get(f"/inbox/{message.conversation_id}").get_data(as_text=True)
    assert page.count('class="automatic">Automatic</span>') == 1 and "track.example.com" in page


def test_a_bad_edit_is_422_and_keeps_the_entry(browser, owner, make, db_session):
    store = make.store()
    row = FaqEntry(store_id=store.id, title="Hours", questions=["When are you open?"], answer="9 to 5.")
    db_session.add(row)
    db_session.commit()
    response = browser.post(f"/answers/{store.slug}/entries/{row.id}", ENTRY | {"questions": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Change the entry" in page and 'id="e-questions"' in page
    db_session.fresh()
    assert db_session.get_one(FaqEntry, row.id).questions == ["When are you open?"]


def test_a_long_try_is_422_and_an_unknown_store_404(browser, owner, make):
    store = make.store()
    response = browser.post(f"/answers/{store.slug}/try", {"message": "x" * 1601})
    assert response.status_code == 422
    assert browser.post("/answers/no-such-store/try", {"message": "hi"}).status_code == 404
    assert browser.get("/answers?store=no-such-store").status_code == 404
