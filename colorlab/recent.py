"""``Recent``: the last few values by key, for work the app repeats on the same input."""
from __future__ import annotations

import threading
from collections import OrderedDict


class Recent:
    """At most ``size`` values by key; the least recently used is dropped first. Thread-safe
    (the app serves several users at once)."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key, default=None):
        with self.lock:
            if key not in self.items:
                return default
            self.items.move_to_end(key)
            return self.items[key]

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
