"""The scorecard as Markdown tables: the status update, the CLI and the README show the same text."""

from __future__ import annotations

from tools.scorecard.models import Scorecard


def num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def tables(card: Scorecard) -> list[str]:
    """Markdown lines: one table per kind of prediction that has any."""
    lines: list[str] = []
    if card.estimates:
        lines += [
            "**Estimates vs actuals**",
            "",
            "| agent | predicts | scored | pending | MAE | bias | MdAE | actual within range |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {e.agent} | {e.what} | {e.n} | {e.pending} | {num(e.mae)} | {num(e.bias)} | "
                f"{num(e.mdae)} | {pct(e.within_range)} |"
                for e in card.estimates
            ),
            "",
        ]
    if card.flags:
        lines += [
            "**Flags vs what really slipped**",
            "",
            "| agent | flag | runs scored | pending | flagged | flagged & slipped | slipped "
            "| precision | recall | F1 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {f.agent} | {f.what} | {f.rounds} | {f.pending} | {f.flagged} | {f.hits} | {f.slipped} | "
                f"{num(f.precision)} | {num(f.recall)} | {num(f.f1)} |"
                for f in card.flags
            ),
            "",
        ]
    if card.calibration:
        lines += [
            "**Forecast calibration**",
            "",
            "| agent | scored | pending | inside P10–P90 | below P10 | above P90 | P50 MAE |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {c.agent} | {c.n} | {c.pending} | {pct(c.inside_p10_p90)} | {pct(c.below_p10)} | "
                f"{pct(c.above_p90)} | {num(c.p50_mae)} |"
                for c in card.calibration
            ),
            "",
        ]
    if card.nudges:
        lines += [
            "**Nudges followed by a change within a day**",
            "",
            "| agent | nudges | pending | followed | rate |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {n.agent} | {n.nudges} | {n.pending} | {n.followed} | {pct(n.rate)} |"
                for n in card.nudges
            ),
            "",
        ]
    if card.decisions:
        lines += [
            "**Approvals by kind**",
            "",
            "| agent | kind | proposed | approved | of which edited | rejected | undecided "
            "| approval rate | rejection rate |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {d.agent} | {d.kind} | {d.proposed} | {d.approved} | {d.edited} | {d.rejected} | "
                f"{d.undecided} | {pct(d.approval_rate)} | {pct(d.rejection_rate)} |"
                for d in card.decisions
            ),
            "",
        ]
    if card.feedback:
        lines += [
            "**What people told sprintpilot (feedback loop)**",
            "",
            '| agent | corrections | false alarms | misses | "wrong" |',
            "|---|---:|---:|---:|---:|",
            *(
                f"| {f.agent} | {f.corrections} | {f.false_alarms} | {f.misses} | {f.disagreements} |"
                for f in card.feedback
            ),
            "",
        ]
    if not lines:
        lines = ["No prediction of sprintpilot's can be scored yet.", ""]
    return lines


def markdown(card: Scorecard, title: str) -> str:
    return "\n".join([f"## {title}", "", *tables(card), f"_Source: {card.source}._"])
