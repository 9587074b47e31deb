"""Running studies: publishing (with the organiser token), a rater's session from start
to result, and the results of a study. ``Lab`` ties the store, the pool and the picture
cache together; the app only wires it to widgets."""
from __future__ import annotations

import hashlib
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoints import CheckpointMeta, list_checkpoints
from . import stats
from .access import check_token
from .plan import COLORIZED, LEFT, REAL, RIGHT, TWO_AFC, Settings, Study, Trial, condition_at, plan_session
from .pool import CATCH, POOL_DIR, Preparer, folder_pool, shipped_pool
from .store import Answer, StudyStore


@dataclass
class Session:
    """A rater's progress through a planned session (kept server-side, e.g. in gr.State)."""
    study: Study
    session_id: str
    trials: list[Trial]
    sha256: dict[str, str] = field(default_factory=dict)
    position: int = 0
    shown_at: float | None = None
    answers: list[tuple[Trial, str]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.position >= len(self.trials)

    def current(self) -> Trial | None:
        return None if self.done else self.trials[self.position]

    def serve(self, preparer: Preparer, directory: Path) -> list[Path]:
        """The current trial's picture(s) copied into ``directory`` under names that say nothing
        (``image.png``; side by side ``a.png`` left, ``b.png`` right); starts the response clock."""
        trial = self.current()
        if trial is None:
            return []
        directory.mkdir(parents=True, exist_ok=True)
        names = ["a.png", "b.png"] if trial.right else ["image.png"]
        out = []
        for name, cond in zip(names, trial.shown):
            dest = directory / name
            shutil.copyfile(preparer.path(trial.photo, cond), dest)
            out.append(dest)
        self.shown_at = time.monotonic()
        return out

    def answer(self, choice: str, store: StudyStore, app_version: str, score: int | None = None) -> bool:
        """Record the answer to the current trial and move on; False if it had been stored before."""
        trial = self.current()
        if trial is None:
            raise ValueError("the session is finished")
        allowed = (LEFT, RIGHT) if trial.right else (REAL, COLORIZED)
        if choice not in allowed:
            raise ValueError(f"answer one of {allowed}, not {choice!r}")
        if trial.right or not self.study.settings.realism_score:
            score = None
        elapsed = 0.0 if self.shown_at is None else time.monotonic() - self.shown_at
        stored = store.add_answer(Answer(
            self.study.study_id, self.session_id, trial.index, trial.photo.photo_id, trial.photo.category,
            trial.condition, trial.kind, trial.truth, choice, int(round(elapsed * 1000)), app_version,
            self.sha256.get(trial.condition, ""), trial.shown_order, score))
        self.answers.append((trial, choice))
        self.position += 1
        self.shown_at = None
        return stored

    def summary(self) -> dict:
        main = [(t, a) for t, a in self.answers if t.kind == "main"]
        colorized = [(t, a) for t, a in main if t.condition != REAL]
        return {"answered": len(self.answers), "total": len(self.trials),
                "correct": sum(t.truth == a for t, a in self.answers),
                "colorized_shown": len(colorized), "fooled": sum(t.truth != a for t, a in colorized)}


class Lab:
    """Studies in ``store`` with checkpoints from ``weights_dir`` and pictures cached in
    ``cache_dir`` (default: ``<store directory>/study-cache``)."""

    def __init__(self, store: StudyStore, weights_dir=None, cache_dir: Path | None = None,
                 pool_dir: Path = POOL_DIR, warm_on_publish: bool = False):
        self.warm_on_publish = warm_on_publish
        self.store, self.weights_dir, self.pool_dir = store, weights_dir, Path(pool_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else store.directory / "study-cache"
        self._preparers: dict[int, Preparer] = {}

    def models(self) -> dict[str, CheckpointMeta]:
        return {m.name: m for m in list_checkpoints(self.weights_dir)}

    def preparer(self, size: int) -> Preparer:
        if size not in self._preparers:
            self._preparers[size] = Preparer(self.cache_dir, size, self.weights_dir)
        return self._preparers[size]

    def import_photos(self, token: str | None, paths: list) -> tuple[Path, list[str]]:
        """An organiser's uploaded photos copied into ``<data>/pools/<hash>/`` (each checked like
        an upload); returns (folder, messages for refused files)."""
        check_token(token)
        paths = [Path(str(p)) for p in paths or []]
        if not paths:
            raise ValueError("upload at least one photo")
        h = hashlib.sha256()
        for p in sorted(paths, key=lambda p: p.name):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
        folder = self.store.directory / "pools" / h.hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        for p in paths:
            shutil.copyfile(p, folder / p.name)
        photos, refused = folder_pool(folder)
        for bad in refused:
            (folder / bad.split(":")[0]).unlink(missing_ok=True)
        return folder, refused

    def publish(self, token: str | None, settings: Settings) -> tuple[Study, str]:
        """Publish a study (token checked first, nothing stored if it is wrong); returns it and
        a note for the organiser (session length, and whether the pool cut it short)."""
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
        note = (f"Study **{study.study_id}** published ({settings.protocol}, {len(settings.models)} models, "
                f"{len(study.photos)} photos). Rater link: `?study={study.study_id}`. Each session: {main} trials"
                + (f" + {catch} attention checks" if catch else "") + ".")
        if main < settings.trials:
            note += (f" **Shorter than the {settings.trials} trials asked for:** the pool has {len(study.photos)} "
                     f"photos and no photo is shown twice in a session.")
        if refused:
            note += " Refused files: " + "; ".join(refused)
        return study, note

    def warm(self, study: Study) -> int:
        """Prepare (into the cache) every picture ``study`` can show, in the order the sessions
        will need them: per plan position the colorization, the real photo and its catch image."""
        prep, photos, conds = self.preparer(study.settings.size), study.photos, study.conditions
        done = 0
        for t in range(len(photos) * len(conds)):
            photo = photos[t % len(photos)]
            for cond in (conds[condition_at(t, len(photos), len(conds))], REAL, CATCH):
                try:
                    prep.path(photo, cond)
                    done += 1
                except Exception:   # noqa: BLE001 - a bad file is reported when a session meets it
                    continue
        return done

    def close(self, token: str | None, study_id) -> Study:
        return self.store.close(token, int(study_id))

    def study(self, study_id=None) -> Study | None:
        """Study ``study_id``, or the latest open one when it is empty/None."""
        if study_id in (None, "") or str(study_id).strip() == "":
            return self.store.latest_open()
        return self.store.study(str(study_id).strip())

    def start(self, study_id=None) -> Session:
        study = self.study(study_id)
        if study is None:
            raise LookupError("There is no open study yet." if study_id in (None, "") else
                              f"There is no study {study_id}.")
        if study.closed:
            raise LookupError(f"Study {study.study_id} is closed.")
        have = self.models()
        missing = [m for m in study.settings.models if m not in have]
        if missing:
            raise LookupError(f"study {study.study_id} needs models that are not installed: {missing}")
        session_id = self.store.start_session(study.study_id)
        return Session(study, session_id, plan_session(study, session_id),
                       {m: have[m].sha256 or "" for m in study.settings.models})

    def results(self, study_id, include_failed: bool = False) -> tuple[Study, dict]:
        study = self.study(study_id)
        if study is None:
            raise LookupError(f"There is no study {study_id}.")
        return study, stats.results(self.store.answers(study.study_id), study.settings, include_failed)

    def export_csv(self, study_id=None) -> str:
        """Answers of one study (or of all, ``study_id`` None) as CSV."""
        rows = self.store.answers(None if study_id in (None, "") else int(study_id))
        settings = {sid: self.store.study(sid).settings for sid in {r["study_id"] for r in rows}}
        return stats.export_csv(rows, settings)


def _version() -> str:
    from .. import __version__
    return __version__


__all__ = ["Lab", "Session", "TWO_AFC"]
