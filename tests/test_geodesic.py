"""Lightness-guided geodesic distance (colorlab.hints.geodesic)."""
from __future__ import annotations

import numpy as np
import pytest

from colorlab.hints.geodesic import EDGE_COST, nearest


def test_even_surface_gives_the_8_neighbour_path_length():
    dist, which = nearest(np.full((20, 30), 50.0), [(5, 5)])
    dy, dx = np.abs(np.mgrid[0:20, 0:30] - np.array([5, 5]).reshape(2, 1, 1))
    assert np.allclose(dist, np.maximum(dy, dx) + (np.sqrt(2) - 1) * np.minimum(dy, dx))
    assert (which == 0).all()


def test_an_edge_costs_its_lightness_step():
    light = np.full((10, 20), 80.0)
    light[:, 10:] = 40.0
    dist, _ = nearest(light, [(5, 5)])
    # the cheapest crossing is one straight step of sqrt(1 + (EDGE_COST * 40)^2)
    crossing = np.sqrt(1 + (EDGE_COST * 40) ** 2) - 1
    assert dist[5, 12] == pytest.approx(7 + crossing)
    assert dist[5, 8] == pytest.approx(3)


def test_each_pixel_knows_its_nearest_source():
    light = np.full((10, 40), 50.0)
    cells = [(5, 35), (5, 2), (5, 35)]                   # duplicates are harmless
    dist, which = nearest(light, cells)
    assert which[5, 0] == 1 and which[5, 39] in (0, 2) and dist[5, 2] == 0 and dist[5, 35] == 0
    with pytest.raises(ValueError):
        nearest(light, [])
