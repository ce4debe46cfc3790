"""Write the bundled sample data sets. Deterministic: the same files on every run.

    python sample_data/make_samples.py

Both sets are synthetic, assembled from templates written for this project; no row is
taken from a public data set.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 2026

NAMES = ["Sam", "Priya", "Tom", "Ana", "Joe", "Mia", "Raj", "Lena", "Ben", "Zoe", "mum", "dad"]
PLACES = [
    "the station",
    "uni",
    "the gym",
    "town",
    "the cafe",
    "work",
    "the shop",
    "home",
    "the pub",
]
TIMES = ["6", "7.30", "half 8", "noon", "tonight", "tomorrow", "later", "after class", "at 5"]
FOODS = ["pizza", "curry", "chips", "pasta", "a sandwich", "noodles", "soup", "tacos"]
HAM = [
    "Are we still on for {food} {time}?",
    "I'm at {place}, where are you?",
    "Can you pick up milk on the way {place_to}?",
    "Running late, be there {time}. Sorry!",
    "{name} says hi. Call me when you get this.",
    "Ok lar, see you at {place} {time}.",
    "Did you finish the assignment? I'm stuck on question {n}.",
    "Happy birthday {name}! Hope you have a lovely day x",
    "Just got home, so tired. Talk {time}?",
    "Don't forget {name}'s party on Saturday.",
    "Thanks for dinner, the {food} was great.",
    "lol that's so funny, can't believe {name} said that",
    "Where did you leave the keys? Not at {place}.",
    "I'll ring you {time}, in a meeting now.",
    "Shall I bring {food} or will you cook?",
    "Train's delayed again, stuck at {place}.",
    "Yeah fine, whatever works for you.",
    "Good luck with the exam tomorrow, you'll be great.",
    "Can we move it to {time}? Something came up.",
    "Love you, see you soon. Café on Sunday?",
    "Are you free to call me later? Need to ask you something.",
    "We won the pub quiz last night! Free drinks for the team.",
    "Text me when you're free, no rush.",
    "Did you claim the refund for the train tickets?",
    "Mum says call her now, it's urgent about {name}.",
    "Got a prize at work today, a voucher for {food} lol",
]
OPENERS = ["", "", "Hey, ", "Hi {name}, ", "Oi ", "Morning! ", "{name}: ", "Hiya. "]
CLOSERS = ["", "", " x", " :)", " Cheers.", " Ta", " See ya", " {name} says hello too."]
SPAM_OPENERS = ["", "", "FreeMsg: ", "ALERT: ", "Dear customer, ", "**", "Txt reply: "]
PRIZES = [
    "£1000 cash",
    "£500 voucher",
    "a FREE holiday",
    "£2000 prize",
    "a new mobile",
    "£250 award",
]
SPAM = [
    "WINNER!! You have been selected to receive {prize}. Call {phone} now to claim. T&C apply.",
    "URGENT! Your mobile number has won {prize}. To claim text CLAIM to {short} now.",
    "Congratulations! You've won {prize} in our weekly draw. Call {phone} before midnight!",
    "FREE entry into our £{amount} competition. Text WIN to {short}. 18+ only, £1.50/msg.",
    "You have an outstanding reward of {prize}. Reply YES to {short} to receive it today.",
    "Claim your {prize} now! Call {phone} from a landline. Offer ends soon. Stop? txt STOP.",
    "Your account is due a refund of £{amount}. Verify at once: call {phone}.",
    "SIX chances to win CASH! From 100 to 20,000 pounds. Txt CSH11 to {short}. Cost 150p/day.",
    "Hot singles in your area want to chat! Text DATE to {short} now. £3/week.",
    "Final notice: your {prize} is waiting. Ring {phone} to collect, ref {ref}.",
    "Hi, it's Lucy from the agency. I saw your profile, reply to {short} to chat x",
    "Your parcel could not be delivered. Reschedule at once: text PARCEL to {short}.",
    "Thanks for your order {ref}. If you did not make it, call {phone} today.",
]
LABEL_NOISE = 0.015  # real collections hold a few mislabelled messages too
SENTIMENT = {
    "positive": [
        "I loved the {thing}, it was {good}.",
        "Really {good} {thing}, would recommend to anyone.",
        "The {thing} exceeded my expectations. {good_cap}!",
        "What a {good} experience, the staff were so kind.",
        "Five stars, the {thing} was {good} from start to finish.",
    ],
    "negative": [
        "The {thing} was {bad}, I want my money back.",
        "Really {bad} {thing}, never again.",
        "I hated the {thing}. Completely {bad}.",
        "Awful service and a {bad} {thing}.",
        "One star. The {thing} broke after a day, {bad}.",
    ],
    "neutral": [
        "The {thing} arrived on Tuesday.",
        "I bought the {thing} last week for my brother.",
        "The {thing} is available in three colours.",
        "It is an ordinary {thing}, nothing more to say.",
        "The {thing} comes with a manual and a cable.",
    ],
}
THINGS = ["film", "hotel", "phone", "meal", "book", "concert", "laptop", "course", "game", "jacket"]
GOOD = ["great", "wonderful", "excellent", "fantastic", "lovely", "brilliant", "superb"]
BAD = ["terrible", "awful", "disappointing", "broken", "useless", "horrible", "poor"]


def _spam_row(rng: random.Random) -> str:
    return (rng.choice(SPAM_OPENERS) + rng.choice(SPAM)).format(
        prize=rng.choice(PRIZES),
        phone="0" + "".join(rng.choice("0123456789") for _ in range(10)),
        short=str(rng.randint(80000, 89999)),
        amount=rng.choice(["100", "250", "500", "1000", "5000"]),
        ref="".join(rng.choice("ABCDEFGHJK0123456789") for _ in range(6)),
    )


def _ham_row(rng: random.Random) -> str:
    place = rng.choice(PLACES)
    template = rng.choice(OPENERS) + rng.choice(HAM) + rng.choice(CLOSERS)
    return template.format(
        food=rng.choice(FOODS),
        time=rng.choice(TIMES),
        place=place,
        place_to="to " + place,
        name=rng.choice(NAMES),
        n=rng.randint(1, 9),
    )


def make_sms(rows: int = 1500, spam_share: float = 0.134) -> list[tuple[str, str]]:
    """SMS-like ham/spam, imbalanced like real SMS collections (about 13% spam)."""
    rng = random.Random(SEED)
    data = []
    for _ in range(rows):
        is_spam = rng.random() < spam_share
        text = _spam_row(rng) if is_spam else _ham_row(rng)
        if rng.random() < LABEL_NOISE:
            is_spam = not is_spam
        data.append(("spam" if is_spam else "ham", text))
    return data


def make_sentiment(rows: int = 360) -> list[tuple[str, str]]:
    rng = random.Random(SEED + 1)
    labels = sorted(SENTIMENT)
    data = []
    for i in range(rows):
        label = labels[i % len(labels)]
        good = rng.choice(GOOD)
        text = rng.choice(SENTIMENT[label]).format(
            thing=rng.choice(THINGS), good=good, good_cap=good.capitalize(), bad=rng.choice(BAD)
        )
        data.append((text, label))
    rng.shuffle(data)
    return data


def write(path: Path, header: tuple[str, str], rows: list[tuple[str, str]], encoding: str) -> None:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    write(HERE / "sms_spam.csv", ("label", "message"), make_sms(), "cp1252")
    write(HERE / "sentiment.csv", ("review", "sentiment"), make_sentiment(), "utf-8")


if __name__ == "__main__":
    main()
