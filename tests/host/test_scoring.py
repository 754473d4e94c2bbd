"""A chat's score."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chats.scoring import chat_score, normalise


@dataclass
class P:
    expected_answer: str = ""
    points: int = 0

    @property
    def is_scored(self) -> bool:
        return self.points > 0 and bool(self.expected_answer.strip())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("  New   York ", "new york"), ("PARIS", "paris"), ("Zoë\tÅ", "zoë å"), ("STRASSE", "strasse")],
)
def test_answers_compare_ignoring_case_and_spacing(answer: str, expected: str) -> None:
    assert normalise(answer) == expected


def test_the_score_sums_the_points_of_correct_answers() -> None:
    paris, tokyo, canberra, free = P("Paris", 1), P("Tokyo", 1), P("Canberra", 2), P()
    answers = [(paris, " paris "), (tokyo, "Kyoto"), (canberra, "CANBERRA"), (free, "anything")]
    assert chat_score(answers, [paris, tokyo, canberra, free]) == 3


def test_no_scored_prompt_means_no_score() -> None:
    free = [P(), P("", 5), P("x", 0)]
    assert chat_score([(prompt, "x") for prompt in free], free) is None


def test_all_wrong_is_zero_not_none() -> None:
    paris = P("Paris", 1)
    assert chat_score([(paris, "Lyon")], [paris]) == 0
