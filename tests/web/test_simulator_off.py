"""Without the simulator provider, the phone simulator does not exist."""


def test_simulator_is_404_with_twilio(browser, agent):
    assert browser.get("/simulator").status_code == 404
    assert "Phone simulator" not in browser.get("/inbox").get_data(as_text=True)
