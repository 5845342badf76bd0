"""DoD config: short YAML forms, clear errors, bullet-list DoD tasks, source precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.dod.config import (
    AcceptanceCriteria,
    Attachments,
    DodConfig,
    Links,
    RequiredFields,
    SubtasksComplete,
)
from tools.dod.loader import (
    DodConfigError,
    load_dod_file,
    parse_bullets,
    parse_dod_text,
    project_file,
    resolve_dod,
)
from tools.dod.text import cosine, stem, tfidf_vectors, tokens

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "dod.example.yaml"


def test_short_forms_normalise_to_typed_checks() -> None:
    cfg = DodConfig.model_validate(
        {
            "checks": [
                "subtasks_complete",
                {"attachments": {"min": 2, "patterns": ["*.png"]}},
                {"required_fields": ["Story Points", "Priority", "Priority"]},
                {"id": "links", "min": 1},
                {"acceptance_criteria": ["comments"]},
            ],
            "on_pass": {"section": "In Review", "status": None},
        }
    )
    a, b, c, d, e = cfg.checks
    assert isinstance(a, SubtasksComplete)
    assert isinstance(b, Attachments) and b.min == 2 and b.patterns == ["*.png"]
    assert isinstance(c, RequiredFields) and c.fields == ["Story Points", "Priority"]
    assert isinstance(d, Links) and d.sources == ["notes", "comments", "attachments"]
    assert isinstance(e, AcceptanceCriteria) and e.evidence == ["comments"] and e.required
    assert cfg.on_pass.section == "In Review" and cfg.on_pass.status is None


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"checks": ["no_such_check"]}, "checks.0"),
        ({"checks": [{"attachments": {"min": 0}}]}, "greater than or equal to 1"),
        ({"checks": []}, "at least 1"),
        ({"checks": ["subtasks_complete"], "surprise": 1}, "surprise"),
        ({"checks": ["subtasks_complete"], "on_pass": {"section": None, "status": None}}, "on_pass"),
    ],
)
def test_invalid_documents_fail_with_the_location(tmp_path: Path, doc: dict, message: str) -> None:
    import yaml

    path = tmp_path / "dod.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DodConfigError) as err:
        load_dod_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_documented_example_loads() -> None:
    loaded = load_dod_file(EXAMPLE)
    assert loaded.config.check_ids() == [
        "subtasks_complete",
        "attachments",
        "links",
        "acceptance_criteria",
        "required_fields",
    ]
    assert loaded.source == f"file:{EXAMPLE}"


def test_bullet_list_dod_task() -> None:
    notes = """Our team's Definition of Done:
- All subtasks complete
- At least 2 screenshots attached (png or pdf)
- Link to the pull request
- Acceptance criteria addressed
- Required fields: Story Points, Priority
- Product owner has seen a demo
"""
    loaded = parse_bullets(notes, "asana-task:9")
    ids = loaded.config.check_ids()
    assert ids == ["subtasks_complete", "attachments", "links", "acceptance_criteria", "required_fields"]
    att = loaded.config.checks[1]
    assert isinstance(att, Attachments) and att.min == 2 and att.patterns == ["*.pdf", "*.png"]
    link = loaded.config.checks[2]
    assert isinstance(link, Links) and "*/pull/*" in link.patterns
    fields = loaded.config.checks[4]
    assert isinstance(fields, RequiredFields) and fields.fields == ["Story Points", "Priority"]
    assert loaded.ignored == ["Product owner has seen a demo"]


def test_dod_task_may_hold_yaml_and_rejects_nonsense() -> None:
    loaded = parse_dod_text("checks:\n  - subtasks_complete\n", "asana-task:1")
    assert loaded.config.check_ids() == ["subtasks_complete"]
    with pytest.raises(DodConfigError):
        parse_dod_text("Be excellent to each other.", "asana-task:1")


def test_precedence_explicit_then_project_file_then_task_then_default(tmp_path: Path) -> None:
    (tmp_path / "product-backlog.yaml").write_text("checks: [links]\n")
    per_project = project_file(tmp_path, "1234", "Product Backlog")
    assert per_project == tmp_path / "product-backlog.yaml"
    (tmp_path / "1234.yml").write_text("checks: [required_fields: [Priority]]\n")
    assert project_file(tmp_path, "1234", "Product Backlog") == tmp_path / "1234.yml"  # gid beats name
    explicit = load_dod_file(tmp_path / "product-backlog.yaml")
    notes = "- All subtasks complete"

    assert (
        resolve_dod(explicit=explicit, project_yaml=tmp_path / "1234.yml", dod_task_notes=notes) is explicit
    )
    from_file = resolve_dod(project_yaml=tmp_path / "1234.yml", dod_task_notes=notes)
    assert from_file.config.check_ids() == ["required_fields"] and from_file.source.startswith(
        "project-file:"
    )
    from_task = resolve_dod(dod_task_notes=notes, dod_task_gid="77")
    assert from_task.config.check_ids() == ["subtasks_complete"] and from_task.source == "asana-task:77"
    fallback = resolve_dod(dod_task_notes="   ")
    assert fallback.source == "default"
    assert fallback.config.check_ids() == ["subtasks_complete", "acceptance_criteria"]


def test_tokens_and_similarity() -> None:
    assert stem("expires") == "expire" and stem("emails") == "email" and stem("stories") == "story"
    assert tokens("loginScreen_final.PNG is the one") == ["login", "screen", "final", "png", "one"]
    a, b, c = tfidf_vectors(["reset link expires", "expire the reset links", "dark mode toggle"])
    assert cosine(a, b) == pytest.approx(1.0)
    assert cosine(a, c) == 0.0
    assert cosine(a, {}) == 0.0
