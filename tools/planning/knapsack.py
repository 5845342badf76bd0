"""The reduced precedence-constrained knapsack and its heuristics (greedy fill, local search).

Indices 0..n-1 are in dependency order (prerequisites first); scores and points are the integers
the solver uses (see tools.planning.scaling).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

LOCAL_SEARCH_ROUNDS = 50
MAX_REFILLS = 400


@dataclass
class Problem:
    """Choose a prerequisite-closed set of maximum score within ``capacity``."""

    gids: list[str]
    score: list[int]
    points: list[int]
    capacity: int
    prereqs: list[list[int]]  # unfinished prerequisites within the model
    dependents: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dependents = [[] for _ in self.gids]
        for i, pre in enumerate(self.prereqs):
            for j in pre:
                self.dependents[j].append(i)

    def value(self, chosen: Iterable[int]) -> int:
        return sum(self.score[i] for i in chosen)

    def weight(self, chosen: Iterable[int]) -> int:
        return sum(self.points[i] for i in chosen)

    def ancestors(self, i: int) -> list[int]:
        """i and every prerequisite it needs, transitively."""
        out, stack = [i], [i]
        seen = {i}
        while stack:
            for j in self.prereqs[stack.pop()]:
                if j not in seen:
                    seen.add(j)
                    out.append(j)
                    stack.append(j)
        return out

    def descendants(self, start: Iterable[int]) -> set[int]:
        """The items given and everything that (transitively) depends on them."""
        seen = set(start)
        stack = list(seen)
        while stack:
            for d in self.dependents[stack.pop()]:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return seen

    def restricted(self, keep: Collection[int]) -> tuple[Problem, list[int]]:
        """The sub-problem on a prerequisite-closed subset, and its indices in this problem."""
        old = sorted(keep)
        new = {k: n for n, k in enumerate(old)}
        sub = Problem(
            gids=[self.gids[k] for k in old],
            score=[self.score[k] for k in old],
            points=[self.points[k] for k in old],
            capacity=self.capacity,
            prereqs=[[new[j] for j in self.prereqs[k]] for k in old],
        )
        return sub, old


def _closure(
    prob: Problem, i: int, chosen: Collection[int], limit: int, banned: Collection[int]
) -> list[int] | None:
    """i plus its prerequisites not yet chosen, or None if that needs more than `limit` points
    or touches a banned item."""
    stack, seen, pts = [i], {i}, 0
    out: list[int] = []
    while stack:
        k = stack.pop()
        if k in banned:
            return None
        pts += prob.points[k]
        if pts > limit:
            return None
        out.append(k)
        for j in prob.prereqs[k]:
            if j not in chosen and j not in seen:
                seen.add(j)
                stack.append(j)
    return out


def greedy_fill(prob: Problem, chosen: Collection[int] = (), banned: Collection[int] = ()) -> set[int]:
    """Repeatedly add the item, with its missing prerequisites, of best score per point that fits.

    A heap keyed by density replaces a full rescan per pick: a group only changes when one of its
    prerequisites is chosen, so only the descendants of each pick are recomputed (a group that
    stops fitting is dropped when popped; the room only shrinks)."""
    chosen = set(chosen)
    banned = set(banned)
    room = prob.capacity - prob.weight(chosen)
    heap: list[tuple[int, float, int, int, int]] = []
    version = [0] * len(prob.gids)
    groups: dict[int, list[int]] = {}

    def push(i: int) -> None:
        version[i] += 1
        group = _closure(prob, i, chosen, room, banned)
        if group is None:
            return
        gain = sum(prob.score[k] for k in group)
        if gain <= 0:
            return
        pts = sum(prob.points[k] for k in group)
        groups[i] = group
        # zero-point groups first, then density, then the larger gain, then the earlier item
        heapq.heappush(heap, (1 if pts > 0 else 0, -gain / pts if pts else 0.0, -gain, i, version[i]))

    for i in range(len(prob.gids)):
        if i not in chosen and i not in banned:
            push(i)
    while heap:
        _, _, _, i, ver = heapq.heappop(heap)
        if ver != version[i] or i in chosen:
            continue
        group = groups[i]
        pts = sum(prob.points[k] for k in group)
        if pts > room:
            continue
        chosen.update(group)
        room -= pts
        for d in sorted(prob.descendants(group)):
            if d not in chosen and d not in banned:
                push(d)
    return chosen


def _dependents_within(prob: Problem, i: int, chosen: set[int]) -> set[int]:
    out, stack = {i}, [i]
    while stack:
        k = stack.pop()
        for d in prob.dependents[k]:
            if d in chosen and d not in out:
                out.add(d)
                stack.append(d)
    return out


def local_search(prob: Problem, start: set[int]) -> set[int]:
    """First-improvement search (drop one chosen item and its dependents, refill greedily),
    bounded by a count of refills (not wall time) so the answer is the same on a busy machine."""
    best, best_val = set(start), prob.value(start)
    budget = MAX_REFILLS
    for _ in range(LOCAL_SEARCH_ROUNDS):
        improved = False
        for r in sorted(best):
            if budget <= 0:
                return best
            budget -= 1
            kept = best - _dependents_within(prob, r, best)
            cand = greedy_fill(prob, kept, {r})
            val = prob.value(cand)
            if val > best_val:
                best, best_val, improved = cand, val, True
                break
        if not improved:
            break
    return best


def prune(prob: Problem, chosen: set[int]) -> set[int]:
    """Drop non-positive-score items that no chosen item needs (never lowers the total)."""
    chosen = set(chosen)
    for i in sorted(chosen, reverse=True):  # indices are in dependency order
        if prob.score[i] <= 0 and not any(d in chosen for d in prob.dependents[i]):
            chosen.discard(i)
    return chosen


def fractional_bound(prob: Problem) -> float:
    """Dantzig bound of the knapsack with precedence dropped: a valid (weak) upper bound."""
    pos = [i for i in range(len(prob.gids)) if prob.score[i] > 0]
    free = [i for i in pos if prob.points[i] == 0]
    rest = sorted((i for i in pos if prob.points[i] > 0), key=lambda i: -prob.score[i] / prob.points[i])
    bound, room = float(sum(prob.score[i] for i in free)), float(prob.capacity)
    for i in rest:
        if prob.points[i] <= room:
            bound += prob.score[i]
            room -= prob.points[i]
        else:
            bound += prob.score[i] * room / prob.points[i]
            break
    return bound


def undominated(prob: Problem) -> list[bool]:
    """Per item: kept by the dominance rule for *isolated* items (no prerequisite, no dependent).

    Isolated j dominates isolated i when it needs no more points and scores at least as much
    (ties broken by score, points, index, so the relation is a strict order). In a plan holding i
    but missing one of i's dominators, swapping i for it keeps the plan feasible and no worse; so
    when i's dominators and i cannot all fit together, some optimal plan avoids i, and all such i
    can go at once (swaps follow the strict order, so they end). Isolated items scoring <= 0
    never help. Non-isolated items are kept."""
    n = len(prob.gids)
    keep = [True] * n
    isolated = [i for i in range(n) if not prob.prereqs[i] and not prob.dependents[i]]
    for i in isolated:
        if prob.score[i] <= 0:
            keep[i] = False
    ranked = sorted((i for i in isolated if keep[i]), key=lambda i: (-prob.score[i], prob.points[i], i))
    values = sorted({prob.points[i] for i in ranked})
    slot = {v: k + 1 for k, v in enumerate(values)}
    tree = [0] * (len(values) + 1)  # Fenwick tree: points of the items seen so far, by points
    for i in ranked:  # every earlier item with no more points dominates i
        k, dominating = slot[prob.points[i]], 0
        while k > 0:
            dominating += tree[k]
            k -= k & -k
        if dominating + prob.points[i] > prob.capacity:
            keep[i] = False
        k = slot[prob.points[i]]
        while k <= len(values):
            tree[k] += prob.points[i]
            k += k & -k
    return keep
