"""The QA / Definition-of-Done reviewer: checks a task against a configurable DoD."""

from agents.qa.proposal import QA_NAME
from agents.qa.specialist import QaArgs, QaConfig, qa_specialist, run_qa

__all__ = ["QA_NAME", "QaArgs", "QaConfig", "qa_specialist", "run_qa"]
