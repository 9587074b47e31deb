"""train.suggestions_report: rows kept from an earlier run (``--keep``) only when they still
describe the shipped checkpoints and method."""
from colorlab.checkpoints import WEIGHTS_DIR, list_checkpoints
from train.suggestions_report import keep_earlier, method_key


def _sha(name):
    return next(m.sha256 for m in list_checkpoints(WEIGHTS_DIR) if m.name == name)


def test_earlier_rows_are_kept_only_for_the_same_checkpoint_and_method():
    results = {"rgb-general": {"category": "general", "n": 20}}
    earlier = {
        "lab-general": {"category": "general", "n": 147},                         # made before keys were kept
        "lab-landscapes": {"category": "landscapes", "n": 143, "checkpoint_sha256": _sha("lab-landscapes"),
                           "method": method_key("landscapes")},
        "lab-faces": {"category": "faces", "n": 298, "checkpoint_sha256": "0" * 64, "method": method_key("faces")},
        "hsv-faces": {"category": "faces", "n": 298, "checkpoint_sha256": _sha("hsv-faces"), "method": "other"},
        "rgb-general": {"category": "general", "n": 147},                         # scored now: the new row stays
        "lab-general-cunet": {"category": "general", "n": 147},                   # takes no hints: not a row
    }
    kept = keep_earlier(results, earlier)
    assert sorted(kept) == ["lab-general", "lab-landscapes"]
    assert list(results) == ["lab-landscapes", "lab-general", "rgb-general"]
    assert results["rgb-general"]["n"] == 20
