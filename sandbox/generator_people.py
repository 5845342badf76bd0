"""The synthetic team: people, their skills and how much sprint work each one carries.

Pure and seeded: the same `random.Random` state always yields the same team. The skill names
double as the backlog's tag names, which is how tasks are matched to people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SKILLS: tuple[str, ...] = ("backend", "frontend", "mobile", "data", "devops", "design", "qa")

# How often each skill area shows up in the backlog (a mobile/web product team: mostly app work).
SKILL_WEIGHTS: dict[str, float] = {
    "backend": 0.24,
    "frontend": 0.18,
    "mobile": 0.22,
    "data": 0.09,
    "devops": 0.09,
    "design": 0.08,
    "qa": 0.10,
}

EMAIL_DOMAIN = "acme.example"

_FIRST_NAMES = (
    "Priya",
    "Marcus",
    "Elena",
    "Tomás",
    "Aisha",
    "Jonas",
    "Mei",
    "Daniel",
    "Fatima",
    "Liam",
    "Sofia",
    "Kenji",
    "Amara",
    "Lukas",
    "Nadia",
    "Oliver",
    "Yara",
    "Ravi",
    "Chloe",
    "Mateo",
)
_LAST_NAMES = (
    "Shah",
    "Okafor",
    "Novak",
    "García",
    "Rahman",
    "Berg",
    "Chen",
    "Kowalski",
    "Haddad",
    "Murphy",
    "Rossi",
    "Tanaka",
    "Mensah",
    "Fischer",
    "Petrova",
    "Brooks",
    "Silva",
    "Iyer",
    "Dubois",
    "Lopez",
)

# Developer archetypes: a primary skill plus plausible secondary ones.
_ARCHETYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("backend", ("devops", "data")),
    ("mobile", ("frontend", "qa")),
    ("frontend", ("design", "mobile")),
    ("backend", ("data", "qa")),
    ("mobile", ("backend",)),
    ("data", ("backend",)),
    ("devops", ("backend", "qa")),
    ("design", ("frontend",)),
    ("qa", ("mobile", "frontend")),
    ("frontend", ("backend",)),
)


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    email: str
    role: str
    skills: tuple[str, ...]
    # Share of a full developer's sprint capacity (the scrum master mostly facilitates).
    capacity: float


def _ascii_slug(text: str) -> str:
    table = str.maketrans("áéíóúãçñ", "aeiouacn")
    return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())


def make_people(rng: random.Random, count: int) -> list[Person]:
    """`count` people (6–10): one scrum master, the rest developers covering every skill."""
    if not 6 <= count <= 10:
        raise ValueError("the synthetic team has 6 to 10 people")
    firsts = rng.sample(_FIRST_NAMES, count)
    lasts = rng.sample(_LAST_NAMES, count)
    archetypes = list(_ARCHETYPES)
    rng.shuffle(archetypes)
    people: list[Person] = []
    for i in range(count):
        name = f"{firsts[i]} {lasts[i]}"
        email = f"{_ascii_slug(firsts[i])}.{_ascii_slug(lasts[i])}@{EMAIL_DOMAIN}"
        if i == 0:
            people.append(Person(f"p{i}", name, email, "Scrum Master", ("qa",), 0.3))
            continue
        primary, secondary = archetypes[(i - 1) % len(archetypes)]
        extra = rng.randint(0, min(2, len(secondary)))
        skills = (primary, *rng.sample(secondary, extra))
        people.append(Person(f"p{i}", name, email, "Engineer", skills, round(rng.uniform(0.85, 1.0), 2)))
    _cover_all_skills(people)
    return people


def _cover_all_skills(people: list[Person]) -> None:
    """Give any uncovered skill to the developer with the fewest skills (max three each)."""
    for skill in SKILLS:
        if any(skill in p.skills for p in people):
            continue
        devs = [i for i, p in enumerate(people) if p.role != "Scrum Master"]
        roomy = [i for i in devs if len(people[i].skills) < 3]
        if roomy:
            idx = min(roomy, key=lambda i: (len(people[i].skills), i))
            p = people[idx]
            people[idx] = Person(p.key, p.name, p.email, p.role, (*p.skills, skill), p.capacity)
            continue
        # Everyone is full: swap out a secondary skill that someone else also covers.
        for i in devs:
            p = people[i]
            spare = [s for s in p.skills[1:] if sum(s in q.skills for q in people) > 1]
            if spare:
                kept = tuple(s for s in p.skills if s != spare[-1])
                people[i] = Person(p.key, p.name, p.email, p.role, (*kept, skill), p.capacity)
                break


def people_with_skill(people: list[Person], skill: str) -> list[Person]:
    return [p for p in people if skill in p.skills]
