"""Slot layouts: values land where the layout says, and summing slot groups gives inner products."""

from __future__ import annotations

import numpy as np
import pytest

from tools.encrypted.ckks import SLOTS
from tools.encrypted.messages import Placement
from tools.encrypted.occupancy import Occupancy
from tools.encrypted.packing import GalleryLayout, SlotLayout
from tools.errors import GalleryError


@pytest.mark.parametrize(
    ("width", "group", "capacity", "parts"), [(128, 128, 32, 1), (512, 512, 8, 1), (64, 4, 1024, 16), (64, 64, 64, 1)]
)
def test_capacity_and_parts(width: int, group: int, capacity: int, parts: int) -> None:
    layout = SlotLayout(width, group)
    assert (layout.capacity, layout.parts) == (capacity, parts)


@pytest.mark.parametrize(("width", "group"), [(128, 128), (64, 4), (64, 64), (63, 4)])
def test_packed_products_sum_to_inner_products(width: int, group: int) -> None:
    rng = np.random.default_rng(0)
    layout = SlotLayout(width, group)
    values = rng.normal(size=(5, width))
    positions = [0, 3, 7, layout.capacity - 1, 11]
    probe = rng.normal(size=width)
    packed, tiled = layout.pack(values, positions), layout.tile(probe)
    assert packed.shape == tiled.shape == (layout.parts, SLOTS)
    sums = layout.template_sums((packed * tiled).sum(axis=0))
    np.testing.assert_allclose(sums[positions], values @ probe, atol=1e-12)
    empty = np.setdiff1d(np.arange(layout.capacity), positions)
    assert np.all(sums[empty] == 0.0)


def test_unpack_recovers_packed_values() -> None:
    layout = SlotLayout(64, 4)
    values = np.random.default_rng(1).normal(size=(3, 64))
    stored = layout.unpack(layout.pack(values, [2, 500, 1023]))
    np.testing.assert_array_equal(stored[[2, 500, 1023]], values)


def test_position_outside_the_segment_is_refused() -> None:
    with pytest.raises(GalleryError, match="out of range"):
        SlotLayout(128, 128).pack(np.ones((1, 128)), [32])


def _placement(index: int, full: tuple[int, int], pre: tuple[int, int]) -> Placement:
    return Placement(
        template_id=f"{index:032x}", full_segment=full[0], full_slot=full[1], pre_tier="staging",
        pre_segment=pre[0], pre_slot=pre[1],
    )


def test_free_positions_reuse_freed_slots_before_opening_a_segment() -> None:
    occupancy = Occupancy([_placement(i, full, (0, i)) for i, full in enumerate([(0, 0), (0, 1), (0, 2), (1, 0)])])
    occupancy.drop(f"{1:032x}")
    assert occupancy.free_positions("full", capacity=3, count=3) == [(0, 1), (1, 1), (1, 2)]
    assert Occupancy().free_positions("full", capacity=2, count=3) == [(0, 0), (0, 1), (1, 0)]
    assert occupancy.count("full") == 3 and occupancy.count("staging") == 3
    assert occupancy.segments("full") == [0, 1] and occupancy.members("staging", 0) == {
        0: f"{0:032x}", 2: f"{2:032x}", 3: f"{3:032x}"
    }


def test_gallery_layout_round_trips_and_checks_its_numbers() -> None:
    layout = GalleryLayout(dim=128)
    assert GalleryLayout.from_dict(layout.to_dict()) == layout
    assert layout.tier("block").parts == 16 and layout.tier("staging").capacity == 64
    with pytest.raises(GalleryError, match="multiple of block_group"):
        GalleryLayout(dim=128, feature_dim=62)
    with pytest.raises(GalleryError, match="dimension"):
        GalleryLayout(dim=SLOTS + 1)
