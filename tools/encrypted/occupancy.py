"""Which template id sits in which slot, kept up to date change by change (both sides keep one).

A gallery of 100,000 templates must not be re-scanned on every enrollment: lookups by segment, free slots and
per-tier counts are all answered from incremental indexes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tools.encrypted.messages import Placement

SegmentKey = tuple[str, int]


def positions(placement: Placement) -> tuple[tuple[SegmentKey, int], tuple[SegmentKey, int]]:
    """((("full", segment), slot), ((preselection tier, segment), slot)) of one template."""
    return (
        (("full", placement.full_segment), placement.full_slot),
        ((placement.pre_tier, placement.pre_segment), placement.pre_slot),
    )


class Occupancy:
    """Placements by template id, and slot → template id for every segment of every tier."""

    def __init__(self, placements: Iterable[Placement] = ()) -> None:
        self.placements: dict[str, Placement] = {}
        self._members: dict[SegmentKey, dict[int, str]] = {}
        self._segments: dict[str, set[int]] = {}
        self._counts: Counter[str] = Counter()
        for placement in placements:
            self.add(placement)

    def add(self, placement: Placement) -> None:
        """Place a template (replacing its previous placement, if any)."""
        if placement.template_id in self.placements:
            self.drop(placement.template_id)
        self.placements[placement.template_id] = placement
        for key, slot in positions(placement):
            self._members.setdefault(key, {})[slot] = placement.template_id
            self._segments.setdefault(key[0], set()).add(key[1])
            self._counts[key[0]] += 1

    def drop(self, template_id: str) -> Placement:
        placement = self.placements.pop(template_id)
        for key, slot in positions(placement):
            members = self._members[key]
            del members[slot]
            self._counts[key[0]] -= 1
            if not members:
                del self._members[key]
                self._segments[key[0]].discard(key[1])
        return placement

    def members(self, tier: str, segment: int) -> dict[int, str]:
        """slot → template id of one segment (empty when the segment holds nobody)."""
        return self._members.get((tier, segment), {})

    def segments(self, tier: str) -> list[int]:
        """The segments of ``tier`` that hold at least one template, in order."""
        return sorted(self._segments.get(tier, ()))

    def count(self, tier: str) -> int:
        """Templates whose values live in ``tier`` ("full" counts every template)."""
        return self._counts[tier]

    def template_ids(self, tier: str) -> list[str]:
        return [i for segment in self.segments(tier) for i in self.members(tier, segment).values()]

    def is_taken(self, tier: str, segment: int, slot: int) -> bool:
        return slot in self.members(tier, segment)

    def free_positions(self, tier: str, capacity: int, count: int) -> list[tuple[int, int]]:
        """The ``count`` lowest free (segment, slot) positions of ``tier``.

        Reusing freed slots first keeps segments dense, so a search touches as few ciphertexts as possible.
        """
        out: list[tuple[int, int]] = []
        segment = 0
        while len(out) < count:
            used = self.members(tier, segment)
            if len(used) < capacity:
                for slot in range(capacity):
                    if slot not in used:
                        out.append((segment, slot))
                        if len(out) == count:
                            break
            segment += 1
        return out
