"""Tiny synthetic dataset files in the native formats (written to tmp dirs by the tests)."""

from __future__ import annotations

import csv
from pathlib import Path

SPRINT_HEADER = [
    "sprintId",
    "sprintName",
    "sprintState",
    "sprintStartDate",
    "sprintEndDate",
    "sprintCompleteDate",
    "totalNumberOfIssues",
    "completedIssuesCount",
    "issuesNotCompletedInCurrentSprint",
    "puntedIssues",
    "issuesCompletedInAnotherSprint",
    "issueKeysAddedDuringSprint",
    "completedIssuesInitialEstimateSum",
    "completedIssuesEstimateSum",
    "puntedIssuesInitialEstimateSum",
    "puntedIssuesEstimateSum",
    "issuesNotCompletedInitialEstimateSum",
    "issuesNotCompletedEstimateSum",
    "issuesCompletedInAnotherSprintInitialEstimateSum",
    "issuesCompletedInAnotherSprintEstimateSum",
    "NoOfDevelopers",
    "SprintLength",
]
MEMBER_HEADER = [
    "projectID",
    "sprintId",
    "status",
    "storyId",
    "issueKey",
    "summary",
    "priorityId",
    "assignee",
    "initialStoryPoint",
    "currentStoryPoint",
]
ISSUE_HEADER = [
    "key",
    "issueType",
    "sprint",
    "status",
    "summary",
    "description",
    "storyPoint",
    "priority",
    "watchcount",
    "fixVersions",
    "affectedVersions",
    "assignee",
    "creator",
    "reporter",
    "commentCount",
    "votes",
    "issueLinks",
    "blockedBy",
    "blocks",
    "dependedOnBy",
    "dependedOn",
    "subtasks",
]
REAL_NAMES = ("alice.real", "bob.real", "carol.real")
TOPICS = ("stream", "module", "redis", "batch", "shell", "admin", "deploy", "tap")


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def koralage_dir(root: Path, sprints: int = 4) -> Path:
    """`root/sprints/koralage2020/Tiny` with `sprints` two-week sprints of 8 issues each."""
    folder = root / "sprints" / "koralage2020" / "Tiny"
    sprint_rows, member_rows, issue_rows = [], [], []
    key = 1
    days = ["1-Apr-13", "15-Apr-13", "29-Apr-13", "13-May-13", "27-May-13", "10-Jun-13", "24-Jun-13"]
    for s in range(1, sprints + 1):
        completed_pts = punted_pts = not_pts = 0
        n_done = n_punt = n_not = 0
        for j in range(8):
            status = (
                "Completed"
                if j < 5
                else (
                    "Punted"
                    if j == 5
                    else ("CompletedInNotherSprint" if j == 6 else "NotCompletedWithinSprint")
                )
            )
            pts = [1, 2, 3, 5, 8, 3, 2, 5][j]
            initial = 0 if j % 3 == 0 else pts
            topic = TOPICS[(s + j) % len(TOPICS)]
            k = f"TY-{key}"
            member_rows.append(
                [
                    7,
                    s,
                    status,
                    1000 + key,
                    k,
                    f"Add {topic} support part {key}",
                    3 + j % 3,
                    REAL_NAMES[j % 3],
                    initial,
                    pts,
                ]
            )
            issue_rows.append(
                [
                    k,
                    "Story",
                    s,
                    "Done",
                    f"Add {topic} support part {key}",
                    f"The {topic} module needs work. Acceptance criteria:\n- {topic} works"
                    if j % 2
                    else "null",
                    pts,
                    3,
                    2,
                    1,
                    0,
                    "Real Person",
                    "Real Person",
                    "Real Person",
                    1,
                    j % 2,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                ]
            )
            key += 1
            if status == "Completed":
                completed_pts += pts
                n_done += 1
            elif status == "Punted":
                punted_pts += pts
                n_punt += 1
            elif status == "NotCompletedWithinSprint":
                not_pts += pts
                n_not += 1
        sprint_rows.append(
            [
                100 + s,
                f"Sprint {s}",
                "CLOSED",
                days[s - 1],
                days[s],
                days[s],
                8,
                n_done,
                n_not,
                n_punt,
                1,
                2,
                completed_pts,
                completed_pts,
                punted_pts,
                punted_pts,
                not_pts,
                not_pts,
                2,
                2,
                3,
                14,
            ]
        )
    # membership rows carry sprint ids as in sprints.csv
    for row in member_rows:
        row[1] = 100 + int(str(row[1]))
    _write(folder / "sprints.csv", SPRINT_HEADER, sprint_rows)
    _write(folder / "sprint_issue_membership.csv", MEMBER_HEADER, member_rows)
    _write(folder / "issues.csv", ISSUE_HEADER, issue_rows)
    return folder


ITERATION_HEADER = [
    "boardid",
    "sprintid",
    "name",
    "vel_diff",
    "planday",
    "no_issue_starttime",
    "vel_starttime",
    "no_issue_added",
    "vel_added",
    "no_issue_removed",
    "vel_removed",
    "no_issuetodo",
    "vel_todo",
    "no_issueinprogress",
    "vel_inprogress",
    "no_issuedone",
    "vel_done",
    "no_admin",
    "no_teammember",
]
ISSUE_FEATURE_HEADER = [
    "boardid",
    "sprintid",
    "type",
    "priority",
    "no_comment",
    "no_affectversion",
    "no_fixversion",
    "no_issuelink",
    "no_blocking",
    "no_blockedby",
    "no_fixversion_change",
    "no_priority_change",
    "no_des_change",
    "gunning_fog",
]


def tse_dir(root: Path) -> Path:
    folder = root / "sprints" / "tse2017" / "Tiny"
    _write(
        folder / "tiny_iteration_0.csv",
        ITERATION_HEADER,
        [
            [5, 7, "Sprint 1", -7, 14, 4, 17, 0, 0, 0, 0, 4, 17, 0, 0, 0, 0, 1, 1],
            [5, 12, "Babbage, RC1", 32, 10, 1, 4, 3, 12, 3, 12, 0, 0, 0, 0, 1, 4, 1, 1],
        ],
    )
    _write(
        folder / "tiny_issue_0.csv",
        ISSUE_FEATURE_HEADER,
        [[5, 7, "Story", "Blocker", 0, 0, 1, 1, 0, 0, 1, 0, 0, "medium"]],
    )
    _write(
        folder / "tiny_issuelink_0.csv",
        ["idissuelink", "issuekey", "linkedIssueKey", "name"],
        [[1, "CB-1", "CB-2", "is blocked by"]],
    )
    return folder
