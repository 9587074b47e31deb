"""colorlab.recent.Recent: bounded, least recently used dropped first."""
from colorlab.recent import Recent


def test_the_least_recently_used_goes_first():
    r = Recent(2)
    r.put("a", 1)
    r.put("b", 2)
    assert r.get("a") == 1          # a is now the more recent
    r.put("c", 3)
    assert r.get("b") is None and r.get("a") == 1 and r.get("c") == 3
    assert r.get("missing", "default") == "default" and len(r.items) == 2
