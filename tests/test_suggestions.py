"""Suggested looks (colorlab.suggestions) with the shipped lab-general and its index."""
import itertools
import json
import shutil

import numpy as np
import pytest
from PIL import Image

import colorlab
from colorlab.checkpoints import CheckpointError, get_model
from colorlab.cli import main
from colorlab.pipeline import colour_at
from colorlab.suggestions import INDEX_DIR, MAX_K, MIN_SEPARATION, choose_casts, load_index, suggest, suggest_colours


@pytest.fixture(scope="module")
def model():
    return get_model("lab-general")


@pytest.fixture(scope="module")
def photo():
    """A small colour photo (the first general example, shrunk): quick, and a real scene."""
    src = sorted((INDEX_DIR.parent.parent / "examples" / "general").glob("*.jpg"))[0]
    img = Image.open(src).convert("RGB")
    img.thumbnail((96, 96))
    return img


def test_suggestions_are_deterministic_distinct_and_ranked(model, photo):
    a, b = suggest(photo, model, k=4), suggest(photo, model, k=4)
    assert [s.rank for s in a] == [1, 2, 3, 4] and a[0].source == "model"
    assert [s.tint for s in a] == [s.tint for s in b]
    assert all(np.array_equal(np.asarray(x.image), np.asarray(y.image)) for x, y in zip(a, b))
    assert all(s.image.size == photo.size for s in a)
    for x, y in itertools.combinations(a, 2):    # visibly different casts
        assert np.hypot(x.ab[0] - y.ab[0], x.ab[1] - y.ab[1]) >= 4.0
    assert sum(s.weight for s in a) == pytest.approx(1.0)
    # each look is what colorize gives with its tint (the app re-renders the clicked one)
    again = np.asarray(colorlab.colorize(photo, model, tint=a[2].tint)).astype(int)
    assert np.abs(again - np.asarray(a[2].image).astype(int)).max() <= 1


def test_separation_holds_when_every_neighbour_agrees():
    casts = np.tile([[3.0, 10.0]], (20, 1))
    centres, weights = choose_casts(np.array([3.0, 10.0]), casts, np.full(20, 0.05), 6, sigma=8.0)
    d = [np.hypot(*(p - q)) for p, q in itertools.combinations(centres, 2)]
    assert min(d) >= MIN_SEPARATION - 1e-9 and weights.sum() == pytest.approx(1.0)


def test_point_colours_start_with_the_models_own(model, photo):
    cols = suggest_colours(photo, model, 0.3, 0.6, n=5)
    assert len(cols) == 5 and cols[0].source == "model"
    assert cols[0].colour == colour_at(photo, model, 0.3, 0.6)
    assert all(c.colour.startswith("#") and len(c.colour) == 7 for c in cols)
    assert [c.source for c in cols[1:]] == ["look 2", "look 3", "look 4", "look 5"]


@pytest.mark.parametrize("k", [0, -1, MAX_K + 1, 2.5, "4", True, None])
def test_bad_k_is_a_clear_error(model, photo, k):
    with pytest.raises(ValueError, match="k must be an integer from 1 to"):
        suggest(photo, model, k=k)


@pytest.mark.parametrize("n", [0, MAX_K + 1, 1.5, "6"])
def test_bad_n_is_a_clear_error(model, photo, n):
    with pytest.raises(ValueError, match="n must be an integer from 1 to"):
        suggest_colours(photo, model, 0.5, 0.5, n=n)


def test_bad_point_is_a_clear_error(model, photo):
    with pytest.raises(ValueError, match="x must be a fraction"):
        suggest_colours(photo, model, 1.5, 0.5)


def test_models_without_hints_get_no_suggestions(photo):
    with pytest.raises(ValueError, match="takes no colour hints, so it has no suggested looks"):
        suggest(photo, get_model("lab-general-cunet"))


def test_index_with_a_wrong_sha256_is_refused(tmp_path, model, photo):
    for ext in (".safetensors", ".json"):
        shutil.copy(INDEX_DIR / f"general{ext}", tmp_path / f"general{ext}")
    assert load_index("general", tmp_path).rows.shape[0] > 0
    data = bytearray((tmp_path / "general.safetensors").read_bytes())
    data[-1] ^= 1
    (tmp_path / "general.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its sidecar; refusing to load"):
        load_index("general", tmp_path)
    with pytest.raises(CheckpointError, match="refusing"):
        suggest(photo, model, 2, index_dir=tmp_path)
    with pytest.raises(CheckpointError, match="no suggestion index"):
        load_index("general", tmp_path / "nowhere")


def test_cli_writes_the_looks_and_their_json(tmp_path, photo):
    grey = tmp_path / "in" / "old photo.png"
    grey.parent.mkdir()
    photo.convert("L").save(grey)
    odd = tmp_path / "in" / "odd.png"
    photo.convert("RGBA").resize((37, 23)).save(odd)          # alpha, tiny, odd sizes
    out = tmp_path / "out"
    assert main(["colorize", "--model", "lab-general", "--out", str(out), "--suggest", "3", str(grey), str(odd)]) == 0
    for stem, size in (("old photo", photo.size), ("odd", (37, 23))):
        looks = [Image.open(out / f"{stem}.s{i}.png") for i in (1, 2, 3)]
        assert all(im.size == size and im.mode == "RGB" for im in looks)
        data = json.loads((out / f"{stem}.suggestions.json").read_text())
        assert [s["rank"] for s in data["suggestions"]] == [1, 2, 3]
        assert {"tint", "a", "b", "weight"} <= set(data["suggestions"][0])
    assert not (out / "odd.s4.png").exists()
    again = suggest(str(grey), get_model("lab-general"), 3)            # the files hold the looks, losslessly
    for i, look in enumerate(again, 1):
        assert np.array_equal(np.asarray(Image.open(out / f"old photo.s{i}.png")), np.asarray(look.image))


@pytest.mark.parametrize("args, message", [
    (["--suggest", "0"], "--suggest: must be from 1 to"),
    (["--suggest", "2", "--tint", "#806040"], "give no --hints"),
    (["--suggest", "2", "--model", "lab-general-cunet"], "has no suggested looks"),
])
def test_cli_refuses_bad_suggest_requests(tmp_path, photo, capsys, args, message):
    src = tmp_path / "a.png"
    photo.save(src)
    model = ["--model", "lab-general"] if "--model" not in args else []
    with pytest.raises(SystemExit) as exc:
        main(["colorize", *model, "--out", str(tmp_path / "o"), *args, str(src)])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_evaluate_reports_top1_and_best_of_k(tmp_path, photo, capsys):
    photo.save(tmp_path / "a.png")
    assert main(["evaluate", "--model", "lab-general", "--data", str(tmp_path), "--suggest", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    s = report["scores"]
    assert report["n"] == 1 and set(s) == {"automatic", "top-1", "best-of-K", "true tint"}
    assert s["best-of-K"]["psnr"] >= s["top-1"]["psnr"] and s["best-of-K"]["ciede2000"] <= s["top-1"]["ciede2000"]


def test_batched_looks_equal_one_by_one(model, photo):
    """The K tinted passes run as one batch; each look is what a pass of its own gives."""
    from colorlab.pipeline import grey_tensor
    from colorlab.suggestions import plan, render_tints
    grey = grey_tensor(photo)
    _, abs_, _, _ = plan(grey, model, 4)
    batched, single = render_tints(model, grey, abs_), render_tints(model, grey, abs_, batch=1)
    for x, y in zip(batched, single):
        assert np.abs(x.astype(int) - y.astype(int)).max() <= 1


def test_thumbnails_are_the_looks_at_the_thumbnail_render_size(model):
    """Thumbnails keep the full looks' casts, each the colorize of its tint at THUMBNAIL_RENDER, shrunk."""
    from colorlab.suggestions import THUMBNAIL_RENDER, thumbnail_render
    src = sorted((INDEX_DIR.parent.parent / "examples" / "general").glob("*.jpg"))[0]
    img = Image.open(src).convert("RGB")
    img.thumbnail((400, 400))
    full, thumbs = suggest(img, model, 3), suggest(img, model, 3, size=64)
    assert thumbnail_render(model) == THUMBNAIL_RENDER < model.render_size
    assert [s.tint for s in full] == [s.tint for s in thumbs] and [s.weight for s in full] == [s.weight for s in thumbs]
    assert all(max(s.image.size) == 64 for s in thumbs)
    for s in thumbs:
        ref = colorlab.colorize(img, model, THUMBNAIL_RENDER, tint=s.tint).resize(s.image.size, Image.BILINEAR)
        diff = np.abs(np.asarray(ref).astype(int) - np.asarray(s.image).astype(int))
        assert diff.mean() < 0.6       # (measured 0.2; 1.0-1.5 from the network at 128)


def test_scene_features_are_cached_per_photo(model, photo):
    from colorlab import suggestions
    from colorlab.pipeline import grey_tensor
    from colorlab.scene import scene_features
    grey = grey_tensor(photo)
    first = suggestions.photo_features(grey)
    assert np.array_equal(first, scene_features(grey))
    assert suggestions.photo_features(grey.clone()) is first           # the same photo: not run again
    other = suggestions.photo_features(grey.flip(-1))
    assert other is not first and not np.array_equal(other, first)


def test_point_colours_are_the_same_from_the_cache(model, photo):
    from colorlab import suggestions
    first = suggest_colours(photo, model, 0.7, 0.2, n=4)
    assert suggest_colours(photo, model, 0.7, 0.2, n=4) == first
    with suggestions._LOOKS.lock:
        suggestions._LOOKS.items.clear()
    assert suggest_colours(photo, model, 0.7, 0.2, n=4) == first
    assert suggest_colours(photo, model, 0.2, 0.9, n=4) != first       # another point, other colours
