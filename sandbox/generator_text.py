"""Texts for the synthetic workspace: task titles, notes with acceptance criteria, comments.

Everything is drawn from a seeded `random.Random`, so texts are reproducible. Titles are built
from per-skill templates over the product's feature areas and never repeat within one workspace.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Feature areas of the product (a shopping app with web and mobile clients).
AREAS: tuple[str, ...] = (
    "checkout",
    "onboarding",
    "push notifications",
    "search",
    "user profile",
    "settings",
    "payments",
    "offline sync",
    "order history",
    "wishlist",
    "product detail page",
    "cart",
    "loyalty points",
    "referral program",
    "in-app chat",
    "delivery tracking",
    "reviews",
    "home feed",
    "login",
    "password reset",
    "address book",
    "promo codes",
    "returns",
    "subscriptions",
    "notifications inbox",
    "store locator",
)

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "backend": (
        "Add rate limiting to the {area} API",
        "Paginate the {area} endpoint",
        "Cache {area} responses in Redis",
        "Move {area} writes to a background job",
        "Add idempotency keys to {area} requests",
        "Expose {area} events on the webhook bus",
        "Split the {area} service out of the monolith",
        "Fix N+1 queries in {area}",
        "Version the {area} API (v2)",
        "Add audit logging for {area} changes",
        "Harden input validation on {area}",
        "Retry failed {area} calls to the partner API",
    ),
    "frontend": (
        "Redesign the {area} page layout",
        "Add skeleton loaders to {area}",
        "Make {area} keyboard accessible",
        "Lazy-load images on {area}",
        "Migrate {area} to the new component library",
        "Add empty and error states to {area}",
        "Improve {area} Lighthouse score",
        "Support dark mode on {area}",
        "Localise {area} strings (de, fr, es)",
        "Add client-side validation to {area} forms",
        "Fix layout shift on {area}",
    ),
    "mobile": (
        "Add {area} to the iOS app",
        "Add {area} to the Android app",
        "Fix crash when opening {area} offline",
        "Deep links into {area}",
        "Reduce {area} screen cold-start time",
        "Support tablet layout for {area}",
        "Add haptics and animations to {area}",
        "Handle background refresh for {area}",
        "Migrate {area} screen to Jetpack Compose",
        "Migrate {area} screen to SwiftUI",
        "Respect dynamic type sizes in {area}",
        "Fix memory leak on the {area} screen",
    ),
    "data": (
        "Track {area} funnel events",
        "Build {area} conversion dashboard",
        "Backfill {area} metrics for last quarter",
        "Add {area} data to the weekly KPI report",
        "Define A/B test metrics for {area}",
        "Deduplicate {area} events in the warehouse",
        "Model {area} churn signals",
    ),
    "devops": (
        "Add alerts for {area} error rate",
        "Autoscale the {area} workers",
        "Add {area} to the canary release pipeline",
        "Set up synthetic monitoring for {area}",
        "Write a runbook for {area} incidents",
        "Move {area} secrets to the vault",
        "Cut {area} build time in CI",
    ),
    "design": (
        "Design the new {area} flow",
        "Usability test for {area}",
        "Create {area} illustrations",
        "Design system tokens for {area}",
        "Prototype {area} micro-interactions",
        "Accessibility review of {area}",
    ),
    "qa": (
        "Automate regression tests for {area}",
        "Write an end-to-end test suite for {area}",
        "Exploratory testing of {area}",
        "Add contract tests for the {area} API",
        "Test {area} on low-end Android devices",
        "Load test {area}",
    ),
}

_PERSONAS = (
    "shopper",
    "returning customer",
    "new user",
    "support agent",
    "store manager",
    "guest user",
    "power user",
    "on-call engineer",
    "product manager",
)

_BENEFITS = (
    "I can finish what I started without friction",
    "I trust the app with my data",
    "pages feel fast even on a bad connection",
    "we can see where people drop off",
    "incidents are caught before customers notice",
    "I don't have to contact support",
    "the experience is consistent across web and mobile",
    "we stop losing orders during peak traffic",
)

_CRITERIA: dict[str, tuple[str, ...]] = {
    "backend": (
        "Endpoint returns 429 with Retry-After when the limit is exceeded",
        "p95 latency stays under 300 ms at 2x current traffic",
        "Existing clients keep working without changes",
        "Errors are logged with a correlation id",
        "Unit and integration tests cover the happy path and failures",
        "API docs are updated",
    ),
    "frontend": (
        "Matches the approved Figma design on desktop and mobile widths",
        "No console errors or warnings",
        "Passes axe accessibility checks",
        "Works in the latest Chrome, Safari and Firefox",
        "Loading, empty and error states are handled",
        "Copy is reviewed by the content team",
    ),
    "mobile": (
        "Works on iOS 16+ and Android 10+",
        "No new crashes reported in the beta build",
        "Works offline and syncs when the connection returns",
        "Screen renders in under 1 second on a mid-range device",
        "VoiceOver and TalkBack read every control",
        "Analytics events fire on open and on completion",
    ),
    "data": (
        "Events are documented in the tracking plan",
        "Dashboard refreshes daily before 8:00",
        "Numbers reconcile with the finance report within 1%",
        "No personal data is stored in the warehouse",
    ),
    "devops": (
        "Alert fires in staging when the threshold is crossed",
        "Runbook is linked from the alert",
        "Rollback takes less than 5 minutes",
        "Change is applied through Terraform, not by hand",
    ),
    "design": (
        "Flows cover the happy path and error cases",
        "Designs reviewed with engineering before hand-off",
        "Components come from the design system",
        "Contrast ratios meet WCAG AA",
    ),
    "qa": (
        "Tests run in CI on every pull request",
        "Flaky tests are quarantined, not skipped silently",
        "Test report is attached to the task",
        "Critical paths are covered on both platforms",
    ),
}

_WANTS: dict[str, str] = {
    "backend": "{area} to stay reliable under load",
    "frontend": "{area} to be quick and easy to use",
    "mobile": "{area} to work smoothly in the app",
    "data": "to understand how people use {area}",
    "devops": "{area} to stay up during peak traffic",
    "design": "a clearer {area} experience",
    "qa": "confidence that {area} won't regress",
}

_AREA_CRITERIA = (
    "Existing {area} behaviour is unchanged for users on older app versions",
    "{Area} works for signed-in and guest users",
    "Product owner signs off on {area} in the sprint review",
    "Feature flag allows turning the {area} change off without a release",
)

_CONTEXT = (
    "Came up in the last customer interviews.",
    "Support tickets about this doubled last month.",
    "Follow-up from the incident review.",
    "Requested by the growth team for the Q1 campaign.",
    "Tech debt we keep tripping over.",
    "Needed before the holiday traffic peak.",
    "Part of the accessibility compliance push.",
    "",
)


@dataclass
class TitleMaker:
    """Draws unique titles; falls back to numbered variants once a skill's space is exhausted."""

    rng: random.Random
    used: set[str] = field(default_factory=set)
    last_area: str = AREAS[0]  # feature area of the latest title (notes refer to it)

    def title(self, skill: str) -> str:
        templates = _TEMPLATES[skill]
        for _ in range(40):
            self.last_area = self.rng.choice(AREAS)
            candidate = self.rng.choice(templates).format(area=self.last_area)
            candidate = candidate[0].upper() + candidate[1:]
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        n = 2
        self.last_area = self.rng.choice(AREAS)
        base = self.rng.choice(templates).format(area=self.last_area)
        while f"{base} (part {n})" in self.used:
            n += 1
        self.used.add(f"{base} (part {n})")
        return f"{base} (part {n})"


def notes_for(rng: random.Random, skill: str, area: str, with_criteria: bool) -> str:
    """A user-story style description, optionally followed by "Acceptance criteria:" bullets."""
    kind = rng.random()
    if kind < 0.55:
        want = _WANTS[skill].format(area=area)
        body = (
            f"As a {rng.choice(_PERSONAS)}, I want {want} so that {rng.choice(_BENEFITS)}. "
            f"{rng.choice(_CONTEXT)}"
        ).strip()
    elif kind < 0.85:
        body = rng.choice(_CONTEXT) or "See the linked design doc."
    else:
        body = ""
    if not with_criteria:
        return body
    bullets = rng.sample(_CRITERIA[skill], rng.randint(2, min(4, len(_CRITERIA[skill]))))
    if rng.random() < 0.5:
        bullets.insert(0, rng.choice(_AREA_CRITERIA).format(area=area, Area=area[0].upper() + area[1:]))
    criteria = "Acceptance criteria:\n" + "\n".join(f"- {b}" for b in bullets)
    return f"{body}\n\n{criteria}" if body else criteria


# Comment tones used in sprint history; the retro agent's sentiment analysis reads these.
_POSITIVE = (
    "Nice work, this shipped smoothly!",
    "Great job on this one, the demo went really well.",
    "Thanks for the quick turnaround, QA found nothing.",
    "Love how clean this turned out 🎉",
    "Merged and deployed, customers already noticed the difference.",
)
_NEUTRAL = (
    "Picked this up, starting with the API contract.",
    "PR is up for review.",
    "Moved the open questions to the design doc.",
    "Deployed to staging for testing.",
    "Pairing with {peer} on this tomorrow.",
    "Updated the estimate after looking at the code.",
)
_FRUSTRATED = (
    "This is taking way longer than expected, the staging environment keeps timing out.",
    "Third time the requirements changed on this one. Annoying.",
    "Flaky tests again, lost half a day to CI.",
    "Ugh, the legacy code here is a mess, need more time.",
    "Still fighting the build, really frustrating week.",
)
_QUESTIONS = (
    "@{peer} should the empty state show a call to action or just text?",
    "Do we need this behind a feature flag?",
    "Who owns the analytics events for this?",
    "Is the design final or still in review?",
    "@{peer} can you confirm the expected behaviour when the user is offline?",
)
_EXTERNAL_BLOCKERS = (
    "waiting on API keys from the payments provider",
    "waiting for legal to approve the copy",
    "the staging database is down",
    "App Store review is still pending",
    "waiting for the design hand-off",
)

TONES = ("positive", "neutral", "frustrated", "question")


def comment(rng: random.Random, tone: str, peer: str) -> str:
    pool = {"positive": _POSITIVE, "neutral": _NEUTRAL, "frustrated": _FRUSTRATED, "question": _QUESTIONS}
    return rng.choice(pool[tone]).format(peer=peer)


def blocked_comment(rng: random.Random, blocker_title: str | None) -> str:
    """A "blocked by ..." comment naming a dependency, or an external reason when there is none."""
    if blocker_title:
        return rng.choice(
            (
                f'Blocked by "{blocker_title}", can\'t continue until it lands.',
                f"Blocked by {blocker_title}. Parking this until that's done.",
            )
        )
    return f"Blocked: {rng.choice(_EXTERNAL_BLOCKERS)}."


_PROCESS_ACTIONS = (
    ("Timebox code reviews to 24 hours", "Reviews sat for days and pushed work over the line."),
    ("Split stories above 8 points before planning", "Large stories kept carrying over."),
    ("Stabilise the staging environment", "Staging timeouts came up in several retros."),
    ("Quarantine flaky UI tests", "CI flakiness cost the team hours every week."),
    ("Agree a Definition of Ready with design", "Stories started before designs were final."),
    ("Rotate the on-call buddy weekly", "Interrupts were concentrated on one person."),
)


def process_actions(rng: random.Random, count: int) -> list[tuple[str, str]]:
    return rng.sample(_PROCESS_ACTIONS, min(count, len(_PROCESS_ACTIONS)))
