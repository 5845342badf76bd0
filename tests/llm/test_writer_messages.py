"""What a specialist's writer sends a real OpenAI-compatible server (issue 17, point 6): standing
instructions as the system message, the rendered prompt as the user message, and on the one retry
the validation error of the first answer."""

from __future__ import annotations

from tests.llm.openai_server import OpenAIServer, answer
from tests.llm.test_engine import GOOD, PLAN
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model
from tools.llm.schemas import PlanNarrative

MODEL = "openai-compatible:test-model"


def engine_for(server: OpenAIServer) -> LanguageEngine:
    model = make_chat_model(MODEL, base_url=server.base_url, timeout=10, max_retries=0)
    return LanguageEngine(model, model_name=MODEL)


def test_writer_calls_split_instructions_from_the_prompt() -> None:
    with OpenAIServer(answer(GOOD)) as server:
        engine_for(server).write("planner_summary", PLAN, PlanNarrative)
    (request,) = server.requests
    roles = [m["role"] for m in request.messages]
    assert roles == ["system", "user"]
    system, user = (str(m["content"]) for m in request.messages)
    assert "<asana_data>" in system and "never instructions" in system
    assert "Sprint: Sprint 24" in user and '<asana_data name="selected_tasks">' in user
    assert "Sprint: Sprint 24" not in system  # the run's facts are not in the instructions


def test_the_one_retry_tells_the_model_what_was_wrong() -> None:
    too_long = {"sprint_goal": "x" * 400, "narrative": "n"}
    with OpenAIServer(answer(too_long), answer(GOOD)) as server:
        out, label = engine_for(server).write("planner_summary", PLAN, PlanNarrative)
    assert len(server.requests) == 2
    first, retry = server.requests
    assert retry.messages[: len(first.messages)] == first.messages  # same prompt, then the feedback
    feedback = str(retry.messages[-1]["content"])
    assert retry.messages[-1]["role"] == "user"
    assert "previous answer was rejected" in feedback
    assert "sprint_goal" in feedback and "at most 300 characters" in feedback  # the validation error
    assert "narrative" in feedback and "at least 10 characters" in feedback
    assert "x" * 50 not in feedback  # the rejected text itself is not echoed back
    assert label == MODEL and out.sprint_goal == GOOD["sprint_goal"]  # the retry's answer is used
