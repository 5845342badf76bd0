"""The software-engineering sentiment lexicon: weighted words, phrases and emoticons.

Weights are on a -3..+3 scale. The lists were written from SE domain knowledge (issue-tracker and
code-review talk: "thanks", "+1", "lgtm", "my bad", "sucks", "stupid") and checked on a documented
development portion of the Jira polarity set (rows with `id % 5 == 0`, see evals/sentiment.py);
never on a reported fold. In that corpus apologies ("sorry", "my bad", "oops") are negative
(sadness) while plain technical failure words ("error", "fails", "crash") are mostly neutral bug
reports, so those get small weights: on their own they do not make a comment negative.
"""

from __future__ import annotations

# Phrases are matched on the lower-cased, whitespace-normalised text before word scoring.
PHRASES: dict[str, float] = {
    "thank you": 2.5, "thanks a lot": 3.0, "much appreciated": 2.5, "looks good": 2.0, "look good": 2.0,
    "looks great": 2.5, "well done": 2.5, "good job": 2.5, "great job": 3.0, "nice work": 2.5,
    "great work": 3.0, "good catch": 2.0, "nice catch": 2.0, "good idea": 2.0, "great idea": 2.5,
    "makes sense": 1.0, "works fine": 1.5, "works great": 2.5, "works now": 1.5, "works for me": 1.0,
    "no worries": 1.0, "no problem": 1.0, "happy to help": 2.5, "glad to": 2.0, "my pleasure": 2.0,
    "kudos": 2.5, "well said": 1.5, "sounds good": 1.5, "sounds great": 2.0, "fair enough": 0.8,
    "my bad": -2.5, "my fault": -2.5, "my mistake": -2.5, "my error": -2.5, "my apologies": -2.5,
    "i messed up": -2.5, "messed up": -2.0, "what the hell": -3.0, "what the heck": -2.5,
    "the hell": -2.5, "the heck": -2.0, "doesn't work": -1.0, "does not work": -1.0,
    "didn't work": -1.0, "did not work": -1.0, "not working": -1.0, "no longer works": -1.0,
    "still failing": -1.0, "still broken": -2.0, "waste of time": -2.5, "pain in the": -2.5,
    "fed up": -2.5, "sick of": -2.5, "tired of": -2.0, "give up": -1.5, "gave up": -1.5,
    "blocked by": -1.0, "waiting on": -0.5, "waiting for": -0.3, "too long": -1.0, "took so long": -1.5,
    "falling behind": -2.0, "out of time": -1.5, "not again": -2.0, "for the delay": -0.5,
    "bad sign": -2.0, "no idea why": -1.5, "no clue": -1.5, "i forgot": -1.5, "i missed": -1.5,
    "wrong patch": -2.0, "wrong file": -2.0, "wrong issue": -2.0, "wrong branch": -2.0,
    "shame": -2.0, "bad habit": -2.0, "silly me": -2.0, "good luck": 1.0, "have fun": 1.5,
    "way to go": 2.0, "love it": 3.0, "love this": 3.0, "+1": 1.5, "lgtm": 2.0, "ship it": 1.5,
    # "like" as a preposition or a polite request, the usual reading in SE text, carries nothing
    "looks like": 0.0, "look like": 0.0, "seems like": 0.0, "seem like": 0.0, "something like": 0.0,
    "would like": 0.0, "would you like": 0.0, "like this": 0.0, "like that": 0.0, "just like": 0.0,
    "feel like": 0.0, "sounds like": 0.0, "things like": 0.0,
}  # fmt: skip

WORDS: dict[str, float] = {
    # gratitude, praise, joy
    "thanks": 2.5, "thank": 2.5, "thx": 2.5, "thanx": 2.5, "tks": 2.0, "ty": 1.5, "cheers": 1.5,
    "appreciate": 2.5, "appreciated": 2.5, "grateful": 2.5, "good": 1.5, "great": 2.5, "nice": 2.0,
    "cool": 2.0, "sweet": 2.0, "awesome": 3.0, "excellent": 3.0, "fantastic": 3.0, "wonderful": 3.0,
    "amazing": 3.0, "brilliant": 3.0, "perfect": 2.5, "superb": 3.0, "neat": 1.5, "elegant": 2.0,
    "beautiful": 2.5, "love": 2.5, "loved": 2.5, "like": 0.8, "liked": 1.0, "likes": 0.8, "enjoy": 2.0,
    "glad": 2.5, "happy": 2.5, "pleased": 2.5, "delighted": 3.0, "excited": 2.5, "exciting": 2.5,
    "welcome": 1.5, "congrats": 3.0, "congratulations": 3.0, "bravo": 3.0, "yay": 2.5, "hooray": 2.5,
    "woohoo": 3.0, "woow": 2.5, "wow": 2.0, "helpful": 2.0, "helped": 1.5, "clean": 0.8,
    "cleaner": 1.0, "better": 0.8, "best": 1.5, "impressive": 2.5, "promising": 1.5, "fun": 1.5,
    "smooth": 1.5, "smoothly": 1.5, "solid": 1.0, "fine": 0.8, "agree": 0.5, "agreed": 0.5,
    "pleasure": 2.5, "kind": 0.8, "hope": 0.3, "hopefully": 0.3, "works": 0.6, "working": 0.3,
    "worked": 0.6, "resolved": 0.3, "fixed": 0.3, "shipped": 1.0, "celebrate": 2.5, "proud": 2.5,
    "relieved": 1.5, "yes": 0.2, "ok": 0.3, "okay": 0.3, "lgtm": 2.0, "sure": 0.2, "easy": 0.8,
    "fast": 0.8, "faster": 0.8, "quick": 0.6, "improvement": 0.8, "improved": 0.8, "win": 1.5,
    # apology, embarrassment, sadness
    "sorry": -2.5, "apologies": -2.5, "apologize": -2.5, "apologise": -2.5, "oops": -2.5,
    "whoops": -2.0, "doh": -2.5, "d'oh": -2.5, "mistake": -1.8, "mistakes": -1.5, "unfortunately": -2.0,
    "unfortunate": -2.0, "sad": -2.5, "sadly": -2.0, "disappointed": -2.5, "disappointing": -2.5,
    "regret": -2.0, "afraid": -1.5, "forgot": -1.8, "forgotten": -1.2, "missed": -0.8, "confused": -1.8,
    "confusing": -1.8, "confusion": -1.5, "misread": -2.0, "misunderstood": -1.5, "wrong": -1.2,
    "worried": -1.8, "worry": -1.0, "scared": -2.0, "scary": -2.0, "scares": -2.0, "fear": -1.5,
    "unhappy": -2.5, "upset": -2.5, "embarrassing": -2.5, "ashamed": -2.5, "lame": -2.5,
    "miserable": -2.5, "disappointment": -2.5, "bummer": -2.0, "pity": -1.5, "grumble": -2.0,
    "gah": -2.0, "evil": -2.0, "madness": -2.0, "insane": -2.0, "crazy": -1.5,
    # anger, frustration, swearing
    "damn": -3.0, "dammit": -3.0, "damned": -3.0, "hell": -2.5, "heck": -2.0, "crap": -3.0,
    "crappy": -3.0, "shit": -3.0, "shitty": -3.0, "fuck": -3.0, "fucking": -3.0, "fucked": -3.0,
    "wtf": -3.0, "bloody": -2.5, "sucks": -3.0, "suck": -2.5, "sucked": -2.5, "stupid": -3.0,
    "idiot": -3.0, "idiotic": -3.0, "dumb": -2.5, "silly": -2.0, "ridiculous": -2.5, "absurd": -2.5,
    "annoying": -2.5, "annoyed": -2.5, "annoyance": -2.5, "irritating": -2.5, "frustrating": -3.0,
    "frustrated": -3.0, "frustration": -3.0, "hate": -3.0, "hated": -3.0, "hates": -3.0, "angry": -3.0,
    "awful": -3.0, "terrible": -3.0, "horrible": -3.0, "horrid": -3.0, "nasty": -2.0, "ugly": -2.0,
    "bad": -1.8, "worse": -1.8, "worst": -2.5, "poor": -1.5, "poorly": -1.5, "painful": -2.5,
    "pain": -1.8, "nightmare": -2.8, "mess": -2.0, "messy": -2.0, "messed": -2.0, "garbage": -2.5,
    "useless": -2.5, "pointless": -2.5, "bogus": -2.0, "broken": -1.2, "broke": -1.0, "b0rked": -2.0,
    "tricky": -1.0, "stuck": -1.8, "whine": -2.0, "complain": -1.5, "complaining": -1.5, "boring": -2.0,
    "tedious": -2.0, "exhausted": -2.5, "overwhelmed": -2.5, "stressful": -2.5, "stressed": -2.5,
    "blocker": -0.8, "blocked": -0.8, "blocking": -0.5, "slipped": -1.2, "late": -0.8, "delay": -0.8,
    "delayed": -1.0, "behind": -0.5, "rushed": -1.5, "rush": -1.0, "chaos": -2.5, "chaotic": -2.5,
    "unclear": -1.2, "vague": -1.2, "disaster": -3.0, "hopeless": -3.0, "impossible": -1.2,
    "sigh": -2.0, "ugh": -2.5, "argh": -2.5, "meh": -1.5, "grr": -2.5, "yuck": -2.5, "shame": -2.0,
    "crash": -0.6, "crashes": -0.6, "crashed": -0.6, "fail": -0.4, "fails": -0.4, "failed": -0.4,
    "failing": -0.4, "failure": -0.4, "error": -0.3, "bug": -0.2, "regression": -0.5, "flaky": -1.2,
    "outage": -1.0, "problem": -0.4, "problems": -0.4, "issue": -0.1, "hack": -0.5, "hacky": -1.2,
}  # fmt: skip

# Multipliers for the next sentiment word (within a short window).
INTENSIFIERS: dict[str, float] = {
    "very": 1.4, "really": 1.4, "so": 1.3, "extremely": 1.6, "super": 1.5, "totally": 1.4,
    "absolutely": 1.5, "incredibly": 1.6, "quite": 1.15, "pretty": 1.15, "much": 1.2, "too": 1.2,
    "completely": 1.4, "utterly": 1.6, "highly": 1.4, "truly": 1.4, "a bit": 0.7, "slightly": 0.6,
    "somewhat": 0.7, "kinda": 0.7, "little": 0.8,
}  # fmt: skip

NEGATORS = frozenset(
    {
        "not", "no", "never", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt",
        "wasn't", "wasnt", "aren't", "arent", "won't", "wont", "can't", "cant", "cannot", "couldn't",
        "shouldn't", "wouldn't", "hardly", "without", "nothing", "nobody", "none", "neither", "nor",
    }
)  # fmt: skip

# Words whose sense a nearby negator does not reverse: "no unit test, sorry" is still an apology.
NOT_NEGATED = frozenset(
    {
        "sorry", "apologies", "oops", "thanks", "thank", "thx", "cheers", "unfortunately", "sadly",
        "damn", "shit", "fuck", "fucking", "wtf", "crap", "hell", "awesome",
    }
)  # fmt: skip

EMOTICONS: dict[str, float] = {
    ":)": 2.0, ":-)": 2.0, ":d": 2.5, ":-d": 2.5, ";)": 1.5, ";-)": 1.5, ":p": 1.0, ":-p": 1.0,
    "=)": 2.0, "^_^": 2.0, "(:": 2.0, "xd": 2.0, ":o)": 1.5, ";o)": 1.5, "<3": 2.5, "\U0001f600": 2.5,
    "\U0001f642": 2.0, "\U0001f389": 2.5, "\U0001f44d": 2.0, "\U0001f680": 2.0, "\u2764": 2.5,
    ":(": -2.5, ":-(": -2.5, ":'(": -3.0, ":/": -1.5, ":-/": -1.5, ":-$": -1.5, ":|": -1.0,
    ">:(": -3.0, "\U0001f61e": -2.5, "\U0001f620": -3.0, "\U0001f622": -2.5, "\U0001f44e": -2.0,
}  # fmt: skip

# Arousal (calm vs agitated) per word for the valence–arousal emotion mapping (DEVA).
HIGH_AROUSAL = frozenset(
    {
        "awesome", "amazing", "fantastic", "excited", "exciting", "wow", "woow", "yay", "hooray", "woohoo",
        "love", "congrats", "congratulations", "bravo", "excellent", "brilliant", "superb", "delighted",
        "great", "kudos", "celebrate", "damn", "dammit", "hell", "crap", "shit", "fuck", "fucking", "wtf",
        "sucks", "stupid", "idiot", "hate", "hated", "annoying", "annoyed", "frustrating", "frustrated",
        "angry", "awful", "terrible", "horrible", "nightmare", "ridiculous", "ugh", "argh", "grr",
        "disaster", "stressed", "stressful", "overwhelmed", "scared", "scary", "worried", "bloody",
        "urgent", "asap", "nasty", "mess", "chaos", "impossible", "absurd", "bogus",
    }
)  # fmt: skip
