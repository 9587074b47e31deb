"""Running studies: publishing (with the organiser token), a rater's session from start
to result, and the results of a study (organiser token again). ``Lab`` ties the store,
the pool, the picture cache and the shelf of served pictures together; the app only
wires it to widgets.

A rater's session, as the app drives it: ``start`` (invite code and per-client cap
checked by the store), then ``show`` (the trial on screen: its number, a fresh token,
its pictures freshly encoded under random names on the shelf), then ``answer`` with
that token (the store's answer protocol: exactly one answer per trial shown), then
``show`` again, until ``done``; ``summary`` is the rater's own end screen.
"""
from __future__ import annotations

import hashlib
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..checkpoints import CheckpointMeta, list_checkpoints
from . import stats
from .access import check_token
from .pictures import Shelf, fresh_png
from .plan import (
    COLORIZED,
    LEFT,
    REAL,
    RIGHT,
    TWO_AFC,
    Settings,
    Study,
    Trial,
    condition_at,
    conditions,
    parse_study_id,
    plan_session,
)
from .pool import CATCH, CATEGORIES, POOL_DIR, Preparer, folder_pool, shipped_pool
from .secret import derive, derive_int
from .store import Refused, StudyStore


@dataclass
class Session:
    """A rater's session, kept on the server (in gr.State): never sent to the rater. The
    store's session row is the truth about where it is; ``position`` follows it."""
    study: Study
    session_id: str
    index: int
    trials: list[Trial]
    sha256: dict[str, str] = field(default_factory=dict)
    position: int = 0

    @property
    def done(self) -> bool:
        return self.position >= len(self.trials)

    def current(self) -> Trial | None:
        return None if self.done else self.trials[self.position]


@dataclass(frozen=True)
class Shown:
    """What the rater receives for one trial: its number (1-based) of ``total``, whether it
    is side by side, the random picture names (left, right; or the one picture), the
    trial token their answer must name, and the study's display settings."""
    number: int
    total: int
    two_afc: bool
    pictures: tuple[str, ...]
    token: str
    exposure_ms: int
    realism_score: bool


class Lab:
    """Studies in ``store`` with checkpoints from ``weights_dir``, pictures cached in
    ``cache_dir`` (default: ``<store directory>/study-cache``) and served from ``shelf``."""

    def __init__(self, store: StudyStore, weights_dir=None, cache_dir: Path | None = None,
                 pool_dir: Path = POOL_DIR, warm_on_publish: bool = False, shelf: Shelf | None = None):
        self.warm_on_publish = warm_on_publish
        self.store, self.weights_dir, self.pool_dir = store, weights_dir, Path(pool_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else store.directory / "study-cache"
        self.shelf = shelf if shelf is not None else Shelf()
        self._preparers: dict[int, Preparer] = {}

    def models(self) -> dict[str, CheckpointMeta]:
        return {m.name: m for m in list_checkpoints(self.weights_dir)}

    def preparer(self, size: int) -> Preparer:
        if size not in self._preparers:
            self._preparers[size] = Preparer(self.cache_dir, size, self.weights_dir)
        return self._preparers[size]

    # ------------------------------------------------------------------ organiser
    def import_photos(self, token: str | None, paths: list) -> tuple[Path, list[str]]:
        """An organiser's uploaded photos copied into ``<data>/pools/<hash>/`` (each checked like
        an upload); returns (folder, messages for refused files). Files with the same name
        are all kept (each is stored under its content hash and its name); identical files
        are kept once."""
        check_token(token)
        paths = [Path(str(p)) for p in paths or []]
        if not paths:
            raise ValueError("upload at least one photo")
        digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
        h = hashlib.sha256("\0".join(sorted(digests)).encode())
        folder = self.store.directory / "pools" / h.hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        names = {}
        for p, d in zip(paths, digests):
            names[d] = f"{d[:10]}-{p.name}"
            shutil.copyfile(p, folder / names[d])
        _, refused = folder_pool(folder)
        for bad in refused:
            (folder / bad.split(":")[0]).unlink(missing_ok=True)
        return folder, refused

    def publish(self, token: str | None, settings: Settings, base_url: str = "") -> tuple[Study, str]:
        """Publish a study (token checked first, nothing stored if it is wrong); returns it and
        a note for the organiser (the rater link, session length, whether the pool cut it
        short, invite codes)."""
        check_token(token)
        settings.validate()
        have = self.models()
        missing = [m for m in settings.models if m not in have]
        if missing:
            raise ValueError(f"these models are not installed: {missing}")
        refused = []
        if settings.pool == "shipped":
            photos = shipped_pool(settings.categories, self.pool_dir)
        else:
            photos, refused = folder_pool(settings.pool)
        study = self.store.publish(token, settings, photos, _version())
        if self.warm_on_publish:   # sessions then find their pictures ready
            threading.Thread(target=self.warm, args=(study,), name=f"warm-study-{study.study_id}", daemon=True).start()
        main, catch = study.lengths()
        n_models = len(settings.models)
        note = (f"Study **{study.study_id}** published ({settings.protocol}, {plural(n_models, 'model')}, "
                f"{plural(len(study.photos), 'photo')}). Rater link: {study.link(base_url)}  \n"
                f"Each session: {plural(main, 'trial')}" + (f" + {plural(catch, 'attention check')}" if catch else "")
                + ".")
        if main < settings.trials:
            note += (f" **Shorter than the {plural(settings.trials, 'trial')} asked for:** the pool has "
                     f"{plural(len(study.photos), 'photo')} and no photo is shown twice in a session.")
        if settings.access == "invite":
            note += (f"  \nInvite-only: {plural(settings.invites, 'invite code')}, each good for one session "
                     f"(listed below; give each rater the link with `&invite=CODE`).")
        if settings.sessions_per_hour:
            note += f"  \nAt most {plural(settings.sessions_per_hour, 'session')} per network address and hour."
        if refused:
            note += "  \nRefused files: " + "; ".join(refused)
        return study, note

    def invites(self, token: str | None, study_id) -> list[dict]:
        return self.store.invites(token, parse_study_id(study_id))

    def warm(self, study: Study) -> int:
        """Prepare (into the cache) every picture ``study`` can show, in the order the sessions
        will need them: per plan position the colorization, the real photo and its catch image."""
        prep, photos = self.preparer(study.settings.size), study.photos
        done = 0
        for t in range(len(photos) * max(len(study.conditions), 1)):
            photo = photos[t % len(photos)]
            conds = conditions(study.settings, photo.category)
            for cond in (conds[condition_at(t, len(photos), len(conds))], REAL, CATCH):
                try:
                    prep.path(photo, cond)
                    done += 1
                except Exception:   # noqa: BLE001, S112 - a bad file is reported when a session meets it
                    continue
        return done

    def close(self, token: str | None, study_id) -> Study:
        return self.store.close(token, parse_study_id(study_id))

    def study(self, study_id=None) -> Study | None:
        """Study ``study_id`` (validated: ``ValueError`` for anything but a whole number), or the
        latest open one when it is empty/None."""
        if study_id is None or str(study_id).strip() == "":
            return self.store.latest_open()
        return self.store.study(parse_study_id(study_id))

    # ------------------------------------------------------------------ raters
    def client_key(self, host: str | None) -> str | None:
        """The stored stand-in for a client's network address (keyed hash; None stays None)."""
        return None if host is None else derive(self.store.secret, "client", host).hex()[:16]

    def start(self, study_id=None, client: str | None = None, invite: str | None = None) -> Session:
        """A new session of study ``study_id`` (or the latest open one) for the client at network
        address ``client`` (None: no per-client cap) with ``invite`` for an invite-only study."""
        study = self.study(study_id)
        if study is None:
            raise LookupError("There is no open study yet." if study_id in (None, "") else
                              f"There is no study {parse_study_id(study_id)}.")
        if study.closed:
            raise LookupError(f"Study {study.study_id} is closed.")
        have = self.models()
        missing = [m for m in study.settings.models if m not in have]
        if missing:
            raise LookupError(f"Study {study.study_id} needs models that are not installed: {missing}")
        main, catch = study.lengths()
        session_id, index = self.store.start_session(study.study_id, self.client_key(client), invite, main + catch)
        seed = derive_int(self.store.secret, "session", study.study_id, session_id)
        return Session(study, session_id, index, plan_session(study, index, seed),
                       {m: have[m].sha256 or "" for m in study.settings.models})

    def show(self, session: Session) -> Shown | None:
        """Serve the trial on screen: a fresh token (the store records the time) and its
        pictures, each freshly encoded under a new random name; None when the session is done."""
        trial = session.current()
        if trial is None:
            return None
        prep = self.preparer(session.study.settings.size)
        names = []
        for cond in trial.shown:
            with Image.open(prep.path(trial.photo, cond)) as img:
                names.append(self.shelf.put(session.session_id, fresh_png(img)))
        token = self.store.serve(session.session_id, session.position)
        st = session.study.settings
        return Shown(session.position + 1, len(session.trials), bool(trial.right), tuple(names), token,
                     int(st.exposure_ms), bool(st.realism_score) and not trial.right)

    def answer(self, session: Session, token: str, choice: str, score: int | None = None,
               app_version: str | None = None) -> dict:
        """Answer the trial on screen with ``choice`` (left/right side by side, real/colorized
        single), naming its ``token``; returns the stored row. ``Refused`` when the store turns
        it down (repeat, unseen, too early, finished: nothing changes)."""
        if choice not in (LEFT, RIGHT, REAL, COLORIZED):
            raise ValueError("answer left, right, real or colorized")
        settings = session.study.settings
        if choice in (LEFT, RIGHT) or not settings.realism_score:
            score = None
        if score is not None and (not isinstance(score, int) or not 1 <= score <= 5):
            raise ValueError("the realism score is a whole number from 1 to 5")
        row, nxt = self.store.answer(session.session_id, token, session.trials, choice, score,
                                     app_version or _version(), settings, session.sha256)
        session.position = nxt
        self.shelf.drop(session.session_id)   # the answered trial's pictures are gone
        return row

    def summary(self, session: Session) -> dict:
        """The rater's own end screen: answered, correct, colorizations shown and taken for real."""
        rows = self.store.answers(session.study.study_id, session.session_id)
        colorized = [r for r in rows if r["kind"] == "main" and r["condition"] != REAL]
        return {"answered": len(rows), "total": len(session.trials),
                "correct": sum(r["answer"] == r["truth"] for r in rows),
                "colorized_shown": len(colorized), "fooled": sum(r["answer"] != r["truth"] for r in colorized)}

    # ------------------------------------------------------------------ results (organiser only)
    def results(self, token: str | None, study_id, include: tuple[str, ...] = ()) -> tuple[Study, dict]:
        """Results of a study (token checked first). ``include``: exclusion rules to waive
        (any of ``stats.RULES``)."""
        check_token(token)
        study = self.study(study_id)
        if study is None:
            raise LookupError(f"There is no study {parse_study_id(study_id)}.")
        return study, stats.results(self.store.answers(study.study_id), study.settings, include)

    def export_csv(self, token: str | None, study_id=None) -> str:
        """Answers of one study (or of all, ``study_id`` None) as CSV (token checked first)."""
        check_token(token)
        rows = self.store.answers(None if study_id in (None, "") else parse_study_id(study_id))
        settings = {sid: self.store.study(sid).settings for sid in {r["study_id"] for r in rows}}
        return stats.export_csv(rows, settings)


def matrix_design(names) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """The publishing default: for each category, its three matrix models (``lab-<c>``,
    ``hsv-<c>``, ``rgb-<c>``, those of them installed), each judged on its own category.
    Returns (models, categories, (model, category) pairs)."""
    have = set(names)
    pairs = [(f"{space}-{cat}", cat) for cat in CATEGORIES for space in ("lab", "hsv", "rgb")
             if f"{space}-{cat}" in have]
    cats = [c for c in CATEGORIES if any(pc == c for _, pc in pairs)]
    return [m for m, _ in pairs], cats, pairs


def plural(n: int, word: str) -> str:
    """``1 attention check``, ``2 attention checks``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _version() -> str:
    from .. import __version__
    return __version__


__all__ = ["TWO_AFC", "Lab", "Refused", "Session", "Shown", "matrix_design", "plural"]
