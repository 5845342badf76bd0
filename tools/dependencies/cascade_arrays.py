"""The delay cascade over integer arrays, one generation of Kahn's ordering at a time.

Same rules and results as the dict pass in `tools.dependencies.cascade` (see there), for large
cascades: the per-link work (finding the affected tasks, counting their affected prerequisites,
pushing each finished task's finish to its dependents) runs in numpy over the affected tasks'
links, and Python touches each affected task once, to read its facts and to build its result.

Kahn's FIFO queue is the concatenation of "generations": the first is every ready task (by depth,
then gid); each next one holds the tasks the previous one made ready, in the order they became
ready (by position of the prerequisite that released them, then by link order). A generation is
one round of vectorised work, so a very deep graph (long chains) means many small rounds: past a
budget of rounds the pass gives up and the caller runs the dict pass instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain, compress
from typing import Any

import numpy as np
import numpy.typing as npt

from tools.dependencies.calendar import from_index
from tools.dependencies.cascade_facts import NONE, Fact, Facts
from tools.dependencies.models import Affected, TaskNode

Ints = npt.NDArray[np.int64]

# Rounds (BFS levels plus Kahn generations) allowed before the dict pass is cheaper: a round costs
# about as much fixed numpy overhead as a few dozen tasks handled one by one.
MIN_ROUNDS = 64
TASKS_PER_ROUND = 32

_LOW = np.iinfo(np.int64).min  # "nothing pushed yet"


class TooDeep(Exception):
    """The cascade has too many generations for the array pass to pay off."""


def array_pass(
    attrs: Mapping[str, dict[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    succ: Mapping[str, Mapping[str, Any]],
    roots: dict[str, tuple[int, int]],
    facts_of: Facts,
) -> tuple[list[Affected], list[str]]:
    """(affected tasks in Kahn's order, gids skipped because a cycle holds them); raises TooDeep."""
    if not roots:
        return [], []
    nodes = list(attrs)
    index = dict(zip(nodes, range(len(nodes)), strict=True))
    succ_of = succ.__getitem__
    rounds = 0

    # Breadth-first by levels. status: 0 unseen, 1 affected, 2 seen but holds nothing up.
    status = np.zeros(len(nodes), np.int8)
    level = list(roots)
    ids = np.fromiter(map(index.__getitem__, level), np.int64, len(level))
    status[ids] = 1
    tasks = [attrs[v]["task"] for v in level]
    levels: list[list[str]] = []
    level_ids: list[Ints] = []
    level_tasks: list[list[TaskNode]] = []
    row_lens: list[Ints] = []
    targets: list[Ints] = []
    reached = 0
    while level:
        rounds += 1
        reached += len(level)
        if rounds > MIN_ROUNDS + reached // TASKS_PER_ROUND:
            raise TooDeep
        levels.append(level)
        level_ids.append(ids)
        level_tasks.append(tasks)
        lens = np.fromiter(map(len, map(succ_of, level)), np.int64, len(level))
        tg = np.fromiter(
            map(index.__getitem__, chain.from_iterable(map(succ_of, level))), np.int64, int(lens.sum())
        )
        row_lens.append(lens)
        targets.append(tg)
        fresh = np.unique(tg[status[tg] == 0])
        gids = list(map(nodes.__getitem__, fresh.tolist()))
        seen = [attrs[v]["task"] for v in gids]
        holds = np.fromiter((t.known and not t.completed for t in seen), bool, len(seen))
        status[fresh] = np.where(holds, 1, 2)  # completed and unknown tasks hold nothing up
        ids = fresh[holds]
        level = list(compress(gids, holds))
        tasks = list(compress(seen, holds))

    # The affected tasks get local numbers 0..m-1 in BFS order; links to unaffected tasks go.
    aff = list(chain.from_iterable(levels))
    m = len(aff)
    depth = np.repeat(np.arange(len(levels), dtype=np.int64), [len(lv) for lv in levels])
    local = np.full(len(nodes), -1, np.int64)
    local[np.concatenate(level_ids)] = np.arange(m, dtype=np.int64)
    all_lens = np.concatenate(row_lens)
    tl = local[np.concatenate(targets)]
    keep = tl >= 0
    lens = np.bincount(np.repeat(np.arange(m, dtype=np.int64), all_lens)[keep], minlength=m)
    tl = tl[keep]
    starts = np.cumsum(lens) - lens
    remaining = np.bincount(tl, minlength=m)

    facts = facts_of.many(list(chain.from_iterable(level_tasks)))
    dur = np.fromiter((f[0] for f in facts), np.int64, m)
    planned = np.fromiter((NONE if f[2] is None else f[2] for f in facts), np.int64, m)
    own = np.fromiter((f[3] for f in facts), np.int64, m)
    is_root = np.zeros(m, bool)
    is_root[: len(levels[0])] = True  # level 0 is the slipped tasks, in `roots` order
    root_new = np.fromiter((f for f, _ in roots.values()), np.int64, len(roots))
    root_base = np.fromiter((b for _, b in roots.values()), np.int64, len(roots))

    # The latest finish among a task's done prerequisites, and which one (ties: smallest gid), as
    # one key: finish × m + (m − 1 − rank of the gid). Baseline finishes need no "which".
    rank = np.empty(m, np.int64)
    by_rank = sorted(range(m), key=aff.__getitem__)
    rank[by_rank] = np.arange(m, dtype=np.int64)
    push_key = np.full(m, _LOW, np.int64)
    push_base = np.full(m, NONE, np.int64)
    # Prerequisites outside the affected set hold a task up by their plan, if they are open.
    out_fin = np.full(m, NONE, np.int64)
    out_via: dict[int, str] = {}
    pred_lens = np.fromiter(map(len, map(pred.__getitem__, aff)), np.int64, m)
    for i in np.flatnonzero((pred_lens != remaining) & ~is_root).tolist():
        best, via = NONE, None
        for p in pred[aff[i]]:
            if local[index[p]] >= 0:
                continue
            pt = attrs[p]["task"]
            f = facts_of.of(pt)[2] if pt.known and not pt.completed else None
            if f is not None and (f > best or (f == best and via is not None and p < via)):
                best, via = f, p
        if via is not None:
            out_fin[i] = best
            out_via[i] = via

    es = np.empty(m, np.int64)
    ef = np.empty(m, np.int64)
    efb = np.empty(m, np.int64)
    ready = np.flatnonzero(remaining == 0)
    gen: Ints = ready[np.lexsort((rank[ready], depth[ready]))]
    order: list[Ints] = []
    ordered = 0
    while gen.size:
        rounds += 1
        ordered += len(gen)
        if rounds > MIN_ROUNDS + (reached + ordered) // TASKS_PER_ROUND:
            raise TooDeep
        order.append(gen)
        _finish(
            gen, dur, planned, own, push_key, push_base, out_fin, is_root, root_new, root_base, m, es, ef, efb
        )
        n = lens[gen]
        total = int(n.sum())
        if total == 0:
            break
        src = np.repeat(gen, n)
        edge = np.repeat(starts[gen] - (np.cumsum(n) - n), n) + np.arange(total, dtype=np.int64)
        dst = tl[edge]
        np.maximum.at(push_key, dst, ef[src] * m + (m - 1 - rank[src]))
        np.maximum.at(push_base, dst, efb[src])
        np.subtract.at(remaining, dst, 1)
        # Ready now: released by this generation; FIFO order is that of the releasing link.
        hit = remaining[dst] == 0
        released = dst[hit][::-1]
        uniq, first = np.unique(released, return_index=True)
        last = len(released) - 1 - first  # position of each task's last link among `released`
        gen = uniq[np.argsort(last, kind="stable")]

    seq = np.concatenate(order) if order else np.empty(0, np.int64)
    stuck = sorted(aff[i] for i in np.flatnonzero(remaining > 0).tolist()) if len(seq) < m else []
    return _results(
        aff, seq, depth, push_key, out_fin, out_via, is_root, by_rank, facts, planned, es, ef, efb
    ), stuck


def _finish(
    gen: Ints,
    dur: Ints,
    planned: Ints,
    own: Ints,
    push_key: Ints,
    push_base: Ints,
    out_fin: Ints,
    is_root: npt.NDArray[np.bool_],
    root_new: Ints,
    root_base: Ints,
    m: int,
    es: Ints,
    ef: Ints,
    efb: Ints,
) -> None:
    """New and baseline finishes of one generation (every prerequisite has pushed by now)."""
    d, o, k, p = dur[gen], own[gen], push_key[gen], planned[gen]
    latest = np.maximum(np.where(k == _LOW, NONE, k // m), out_fin[gen])
    s = np.maximum(o, latest + 1)
    f = np.maximum(s + d - 1, p)  # planned is NONE when there is none
    fb = np.maximum(np.maximum(o, np.maximum(push_base[gen], out_fin[gen]) + 1) + d - 1, p)
    r = is_root[gen]
    if r.any():  # a slipped task's finishes are given; its start is as late as its new finish allows
        g = gen[r]  # roots are local 0..len(roots)-1, in `roots` order
        f[r] = root_new[g]
        fb[r] = root_base[g]
        s[r] = np.minimum(o[r], root_new[g] - d[r] + 1)
    es[gen], ef[gen], efb[gen] = s, f, fb


def _results(
    aff: list[str],
    seq: Ints,
    depth: Ints,
    push_key: Ints,
    out_fin: Ints,
    out_via: dict[int, str],
    is_root: npt.NDArray[np.bool_],
    by_rank: list[int],
    facts: list[Fact],
    planned: Ints,
    es: Ints,
    ef: Ints,
    efb: Ints,
) -> list[Affected]:
    """One `Affected` per task in Kahn's order, built column by column."""
    m = len(aff)
    key = push_key[seq]
    pushed = (key != _LOW) & ~is_root[seq]
    via_local = np.where(pushed, np.asarray(by_rank, np.int64)[m - 1 - key % m], -1).tolist()
    vias: list[str | None] = [None if j < 0 else aff[j] for j in via_local]
    if out_via:  # the latest prerequisite may be one outside the affected set
        latest = np.where(key == _LOW, NONE, key // m)
        position = np.full(m, -1, np.int64)
        position[seq] = np.arange(len(seq), dtype=np.int64)
        for i, outside in out_via.items():
            k = int(position[i])
            if k < 0:
                continue  # never reached (held by a cycle)
            fin, via = int(out_fin[i]), vias[k]
            if via is None or fin > latest[k] or (fin == latest[k] and outside < via):
                vias[k] = outside
    order = seq.tolist()
    fs = [facts[i] for i in order]
    e_s, e_f = es[seq], ef[seq]
    # Dates once per distinct working day: a portfolio has far fewer of them than tasks.
    distinct, where = np.unique(np.concatenate((e_s, e_f)), return_inverse=True)
    calendar = [from_index(i) for i in distinct.tolist()]
    days = [calendar[i] for i in where.tolist()]
    n = len(order)
    slack = (planned[seq] - e_f).tolist()
    # Positional, in the field order of Affected (tests/dependencies pin both the order and the
    # values against the reference algorithm): map() builds them without a Python-level loop.
    return list(
        map(
            Affected,
            [aff[i] for i in order],
            depth[seq].tolist(),
            vias,
            [f[4] for f in fs],
            days[:n],
            days[n:],
            [f[5] for f in fs],
            [f[0] for f in fs],
            [f[1] for f in fs],
            # planned is due_on's index whenever there is a due date
            [None if f[5] is None else sl for f, sl in zip(fs, slack, strict=True)],
            np.maximum(e_f - efb[seq], 0).tolist(),
        )
    )
