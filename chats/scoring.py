"""A chat's score: pure arithmetic over prompts and answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class ScoredPrompt(Protocol):
    expected_answer: str
    points: int

    @property
    def is_scored(self) -> bool: ...


def normalise(answer: str) -> str:
    """Case- and whitespace-insensitive form of an answer: "  New   York " == "new york"."""
    return " ".join(answer.split()).casefold()


def chat_score(answers: Iterable[tuple[ScoredPrompt, str]], prompts: Iterable[ScoredPrompt]) -> int | None:
    """Points of the correct answers, or None when no prompt of the flow is scored."""
    if not any(prompt.is_scored for prompt in prompts):
        return None
    return sum(
        prompt.points
        for prompt, answer in answers
        if prompt.is_scored and normalise(answer) == normalise(prompt.expected_answer)
    )


def is_weighted(prompts: Iterable[ScoredPrompt]) -> bool:
    """Whether the scored prompts are worth different points (a score is then not a count of right answers)."""
    return len({prompt.points for prompt in prompts if prompt.is_scored}) > 1


def max_score(prompts: Iterable[ScoredPrompt]) -> int | None:
    """The most a chat can score: the points of every scored prompt; None when no prompt is scored."""
    scored = [prompt.points for prompt in prompts if prompt.is_scored]
    return sum(scored) if scored else None
