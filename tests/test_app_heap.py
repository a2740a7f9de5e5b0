"""The app factory's process-wide setup."""
import gc


def test_the_first_app_freezes_the_startup_heap(app):
    """What exists once the app is built lives as long as the process: it is kept out of the
    collector's full collections, each a 100+ ms pause for a request (bench/inbox.py's p99)."""
    assert gc.get_freeze_count() > 0
