"""Study settings and session plans: which photo a rater sees in which condition.

A study fixes its settings and its ordered photo list when it is published (``Study``);
nothing about it changes afterwards. The conditions are "real" and each chosen model
(single-image protocol) or each chosen model (side by side, where every trial pairs the
real photo with one colorization of it).

Counterbalancing (a cyclic Latin square). Lay the study's photo list end to end forever;
position ``t`` holds photo ``t mod P`` in condition ``(t mod P + t div P) mod C``. Session
``k`` takes the ``n`` main trials at positions ``k*n .. k*n+n-1``, so the sessions together
walk the positions in order: every photo comes round once per pass, each time in the next
condition. Over any number of sessions each photo has been shown in each condition equally
often within 1 (exactly equal after every C passes), and within a session consecutive
photos have consecutive conditions, so the conditions are balanced within a session too.
When ``P`` is a multiple of ``C`` and ``n = P`` this is the classic Latin square (session
``k``, photo ``i`` -> condition ``(i + k) mod C``).

Catch trials (attention checks) take the photos right after the session's window, so no
photo appears twice in a session, in either protocol, as long as ``n + catches <= P``;
when the pool is too small the session is shortened (``session_lengths``). The order of
the trials and, side by side, which side the real photo is on, are shuffled with a seed
derived from the session id: ``plan_session`` returns the same plan for the same id.
"""
from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import asdict, dataclass, field

from .pool import CATCH, CATEGORIES, IMAGE_SIZE, REAL, Photo

SINGLE = "single"
TWO_AFC = "2afc"
PROTOCOLS = (SINGLE, TWO_AFC)
PROTOCOL_LABELS = {SINGLE: "single image: real or colorized?",
                   TWO_AFC: "side by side (2AFC): which one is real?"}
LEFT, RIGHT = "left", "right"
COLORIZED = "colorized"
MAIN = "main"
DEFAULT_TRIALS = 20
MAX_CATCH_SHARE = 0.5


@dataclass(frozen=True)
class Settings:
    """What an organiser chooses. ``trials`` counts the main trials of a session; the
    catch trials come on top (``catch_share`` of the whole session)."""
    protocol: str
    models: tuple[str, ...]
    categories: tuple[str, ...] = CATEGORIES
    trials: int = DEFAULT_TRIALS
    catch_share: float = 0.1
    catch_pass: float = 0.75        # a session passes its checks with at least this share right
    exposure_ms: int = 0            # 0: no limit; else the picture(s) hide after this long
    realism_score: bool = True      # single protocol: offer the optional 1-5 score
    size: int = IMAGE_SIZE
    pool: str = "shipped"           # "shipped" or the organiser's folder

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "categories", tuple(self.categories))

    def validate(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if not self.models:
            raise ValueError("choose at least one model")
        if len(set(self.models)) != len(self.models) or REAL in self.models or CATCH in self.models:
            raise ValueError(f"the models must be distinct checkpoint names, got {list(self.models)}")
        if not self.categories:
            raise ValueError("choose at least one category")
        if int(self.trials) < 1:
            raise ValueError("a session needs at least one trial")
        if not 0 <= float(self.catch_share) <= MAX_CATCH_SHARE:
            raise ValueError(f"the share of catch trials must be between 0 and {MAX_CATCH_SHARE}")
        if not 0 <= float(self.catch_pass) <= 1:
            raise ValueError("the pass mark for catch trials must be between 0 and 1")
        if not 0 <= int(self.exposure_ms) <= 60_000:
            raise ValueError("the exposure limit must be between 0 (none) and 60000 ms")
        if not 32 <= int(self.size) <= 1024:
            raise ValueError("the image size must be between 32 and 1024 pixels")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["models"], d["categories"] = list(self.models), list(self.categories)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Settings":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Study:
    """A published study: id, settings and its photos in plan order (fixed at publishing)."""
    study_id: int
    settings: Settings
    photos: tuple[Photo, ...] = field(default=())
    closed: bool = False

    @property
    def conditions(self) -> list[str]:
        return conditions(self.settings)

    def lengths(self) -> tuple[int, int]:
        return session_lengths(self.settings, len(self.photos))

    def link(self, base_url: str = "") -> str:
        return f"{base_url}?study={self.study_id}"


@dataclass(frozen=True)
class Trial:
    """One trial. Side by side, ``left``/``right`` name what is shown there ("real" and the
    condition); single, ``left`` is the one picture's condition and ``right`` is empty."""
    index: int
    photo: Photo
    condition: str      # "real", a model name, or "catch"
    left: str
    right: str = ""

    @property
    def kind(self) -> str:
        return CATCH if self.condition == CATCH else MAIN

    @property
    def truth(self) -> str:
        """The correct answer: single "real"/"colorized", side by side the side of the real photo."""
        if self.right:
            return LEFT if self.left == REAL else RIGHT
        return REAL if self.condition == REAL else COLORIZED

    @property
    def shown_order(self) -> str:
        return f"{self.left}|{self.right}" if self.right else ""

    @property
    def shown(self) -> list[str]:
        return [self.left, self.right] if self.right else [self.left]


def conditions(settings: Settings) -> list[str]:
    models = sorted(settings.models)
    return models if settings.protocol == TWO_AFC else [REAL] + models


def session_lengths(settings: Settings, n_photos: int) -> tuple[int, int]:
    """(main trials, catch trials) of a session: ``settings.trials`` main trials plus
    ``catch_share`` of the session as catches (at least one if the share is > 0), both cut
    down in proportion when the pool has fewer photos than that (no photo twice)."""
    main = int(settings.trials)
    share = float(settings.catch_share)
    catch = 0 if share <= 0 else max(1, round(main * share / (1 - share)))
    if main + catch > n_photos:
        if catch and n_photos >= 2:
            catch = max(1, math.floor(n_photos * share))
            main = n_photos - catch
        else:
            main, catch = min(main, max(0, n_photos)), 0
    return main, catch


def session_seed(session_id: str) -> int:
    return int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:8], "big")


def condition_at(t: int, n_photos: int, n_conditions: int) -> int:
    """Condition index of plan position ``t`` (see the module docstring)."""
    return (t % n_photos + t // n_photos) % n_conditions


def make_session_id(study_id: int, index: int, nonce: str) -> str:
    return f"{study_id}-{index}-{nonce}"


def parse_session_id(session_id: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)-(\d+)-[0-9a-f]+", session_id)
    if not m:
        raise ValueError(f"not a session id: {session_id!r}")
    return int(m.group(1)), int(m.group(2))


def plan_session(study: Study, session_id: str) -> list[Trial]:
    """The trials of session ``session_id`` (its index is part of the id), always the same."""
    _, k = parse_session_id(session_id)
    photos, conds = list(study.photos), study.conditions
    P, C = len(photos), len(conds)
    main, catch = study.lengths()
    if main < 1:
        return []
    rng = random.Random(session_seed(session_id))
    start = k * main
    picks = [(photos[t % P], conds[condition_at(t, P, C)]) for t in range(start, start + main)]
    picks += [(photos[t % P], CATCH) for t in range(start + main, start + main + catch)]
    rng.shuffle(picks)
    trials = []
    for i, (photo, cond) in enumerate(picks):
        if study.settings.protocol == TWO_AFC:
            pair = [REAL, cond]
            rng.shuffle(pair)
            trials.append(Trial(i, photo, cond, *pair))
        else:
            trials.append(Trial(i, photo, cond, cond))
    return trials


def order_pool(photos: list[Photo], categories, seed: str) -> list[Photo]:
    """The study's photo list: the photos of ``categories``, shuffled once with ``seed``
    (so every session window mixes the categories)."""
    chosen = sorted((p for p in photos if p.category in set(categories) or p.category not in CATEGORIES),
                    key=lambda p: (p.photo_id, p.sha256))
    random.Random(session_seed(seed)).shuffle(chosen)
    return chosen


__all__ = ["COLORIZED", "DEFAULT_TRIALS", "LEFT", "MAIN", "PROTOCOLS", "PROTOCOL_LABELS", "RIGHT", "SINGLE",
           "Settings", "Study", "TWO_AFC", "Trial", "condition_at", "conditions", "make_session_id", "order_pool",
           "parse_session_id", "plan_session", "session_lengths", "session_seed"]
