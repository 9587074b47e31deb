"""Lightness-guided geodesic distance on a pixel grid: how far apart two pixels are when a
path between them pays for every change of lightness it crosses.

A step between 8-neighbours p and q costs sqrt(|p - q|^2 + (EDGE_COST (L_p - L_q))^2)
pixels (|p - q| is 1 or sqrt 2, L in CIE L*): inside a surface of even lightness the
distance is the plain one; an edge of 10 L* costs like 10 EDGE_COST pixels more, so what
lies beyond an edge is far even when it is near (the geodesic distance of Criminisi et al.,
"GeoS", 2008). The shortest paths from all the sources at once are one Dijkstra pass
(``scipy.sparse.csgraph.dijkstra``) over the grid graph, so the cost is O(h w log(h w))
whatever the number of sources, and the memory is a few arrays of h x w.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

# Pixels of path one L* unit of lightness change costs. Chosen with POINT_REACH and CROWD on
# train photos (``colorlab.hints.encoding.confidence``; docs/hints.md, "Locality").
EDGE_COST = 3.0
_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1))   # each undirected 8-neighbour edge once


def grid_graph(lightness: np.ndarray, edge_cost: float = EDGE_COST) -> csr_matrix:
    """The 8-neighbour graph of an (h, w) L* map (float, any range) with the step costs of
    the module docstring, as a sparse (h w, h w) matrix of upper-triangle edges."""
    h, w = lightness.shape
    light = np.asarray(lightness, dtype=np.float64)
    index = np.arange(h * w).reshape(h, w)
    rows, cols, costs = [], [], []
    for dy, dx in _STEPS:
        src = (slice(0, h - dy), slice(max(0, -dx), w - max(0, dx)))
        dst = (slice(dy, h), slice(max(0, dx), w + min(0, dx)))
        rows.append(index[src].ravel())
        cols.append(index[dst].ravel())
        costs.append(np.sqrt(dy * dy + dx * dx + (edge_cost * (light[src] - light[dst])) ** 2).ravel())
    return csr_matrix((np.concatenate(costs), (np.concatenate(rows), np.concatenate(cols))), shape=(h * w, h * w))


def nearest(lightness: np.ndarray, cells, edge_cost: float = EDGE_COST) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance from each pixel of an (h, w) L* map to the nearest of ``cells``
    ((row, col), ...; at least one) and which cell that is: ((h, w) float64 in pixels,
    (h, w) int index into ``cells``)."""
    h, w = lightness.shape
    if not len(cells):
        raise ValueError("geodesic distance needs at least one source cell")
    sources = np.array([r * w + c for r, c in cells])
    dist, _, origin = dijkstra(grid_graph(lightness, edge_cost), directed=False, indices=sources,
                               min_only=True, return_predecessors=True)
    which = np.searchsorted(np.sort(sources), origin)          # source pixel -> position among sorted
    order = np.argsort(sources, kind="stable")
    return dist.reshape(h, w), order[np.clip(which, 0, len(sources) - 1)].reshape(h, w)
