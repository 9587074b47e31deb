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
the caller derives from the server's secret (``colorlab.studies.secret``) and the
session's random id; the study's photo list is shuffled once, at publishing, with a seed
derived from the secret too. Nothing a rater is shown or sent is a seed, so nothing
they receive before answering tells them the truth. ``plan_session`` returns the same
plan for the same (index, seed).
"""
from __future__ import annotations

import math
import random
import re
import secrets
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
OPEN, INVITE = "open", "invite"
ACCESS = (OPEN, INVITE)
MAX_INVITES = 1000
MAX_STUDY_ID = 10 ** 9


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
    access: str = OPEN              # "open": anyone with the link; "invite": one code per session
    invites: int = 0                # invite codes generated at publishing (access "invite")
    sessions_per_hour: int = 0      # cap per client (network address) and hour; 0: no cap
    fast_median_ms: int = 300       # a session whose median response is below this is flagged
    grace_ms: int = 3000            # with an exposure limit: answers later than limit + grace are late
    pairs: tuple[tuple[str, str], ...] = ()   # (model, category): judge a model on its category only

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "pairs", tuple(tuple(p) for p in self.pairs))

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
        if self.access not in ACCESS:
            raise ValueError(f"access must be one of {ACCESS}, got {self.access!r}")
        if self.access == INVITE and not 1 <= int(self.invites) <= MAX_INVITES:
            raise ValueError(f"an invite-only study needs between 1 and {MAX_INVITES} invite codes")
        if not 0 <= int(self.sessions_per_hour) <= 10_000:
            raise ValueError("the cap on sessions per client and hour must be between 0 (none) and 10000")
        if not 0 <= int(self.fast_median_ms) <= 10_000:
            raise ValueError("the fast-session threshold must be between 0 (off) and 10000 ms")
        if not 0 <= int(self.grace_ms) <= 60_000:
            raise ValueError("the grace after the exposure limit must be between 0 and 60000 ms")
        for model, category in self.pairs:
            if model not in self.models or category not in self.categories:
                raise ValueError(f"the pair ({model}, {category}) names a model or category the study does not have")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["models"], d["categories"] = list(self.models), list(self.categories)
        d["pairs"] = [list(p) for p in self.pairs]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Settings:
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
        """The rater link: ``base_url`` (the app's address) with ``?study=ID``."""
        return f"{base_url.rstrip('/')}/?study={self.study_id}" if base_url else f"?study={self.study_id}"


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


def conditions(settings: Settings, category: str | None = None) -> list[str]:
    """The conditions of the study (``category`` None), or those a photo of ``category``
    can be shown in: with ``settings.pairs`` only the models paired with its category."""
    models = sorted(settings.models)
    if category is not None and settings.pairs:
        models = sorted(m for m, c in settings.pairs if c == category)
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


def condition_at(t: int, n_photos: int, n_conditions: int) -> int:
    """Condition index of plan position ``t`` (see the module docstring)."""
    return (t % n_photos + t // n_photos) % n_conditions


def new_session_id() -> str:
    """A session's id: 16 random hex digits, unrelated to the study, the session's place in
    the rotation and its plan."""
    return secrets.token_hex(8)


def parse_study_id(text) -> int:
    """A study id from a link or a form: a whole number 1..10^9, else ``ValueError`` with a
    message that does not repeat the input (it may be anything, e.g. HTML)."""
    s = str(text if text is not None else "").strip()
    if not re.fullmatch(r"[0-9]{1,10}", s) or not 1 <= int(s) <= MAX_STUDY_ID:
        raise ValueError("A study id is a whole number such as 3; the link's study id is not one.")
    return int(s)


def plan_session(study: Study, index: int, seed: int) -> list[Trial]:
    """The trials of the study's session number ``index`` (its place in the rotation),
    shuffled with ``seed`` (derived from the server secret); always the same for the same
    arguments."""
    k = int(index)
    photos = list(study.photos)
    P = len(photos)
    main, catch = study.lengths()
    if main < 1:
        return []
    rng = random.Random(int(seed))
    start = k * main
    picks = []
    for t in range(start, start + main):
        conds = conditions(study.settings, photos[t % P].category)
        picks.append((photos[t % P], conds[condition_at(t, P, len(conds))]))
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


def order_pool(photos: list[Photo], categories, seed: int, pairs=()) -> list[Photo]:
    """The study's photo list: the photos of ``categories``, shuffled once with ``seed``
    (derived from the server secret, so the list cannot be rebuilt from public data;
    every session window mixes the categories)."""
    chosen = sorted((p for p in photos if p.category in set(categories) or p.category not in CATEGORIES),
                    key=lambda p: (p.photo_id, p.sha256, str(p.path)))
    if pairs:   # a photo whose category no model is judged on is never shown
        chosen = [p for p in chosen if p.category in {c for _, c in pairs}]
    random.Random(int(seed)).shuffle(chosen)
    return chosen


__all__ = ["ACCESS", "COLORIZED", "DEFAULT_TRIALS", "INVITE", "LEFT", "MAIN", "OPEN", "PROTOCOLS", "PROTOCOL_LABELS",
           "RIGHT", "SINGLE", "TWO_AFC", "Settings", "Study", "Trial", "condition_at", "conditions", "new_session_id",
           "order_pool", "parse_study_id", "plan_session", "session_lengths"]
