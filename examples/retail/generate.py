#!/usr/bin/env python3
"""Generate the sample export of the retail example: data/customers.csv, data/events.csv.

Deterministic (fixed seed, no clock read): running it again writes byte-identical files.
Python 3 standard library only. The data is synthetic but shaped like a real export:

- customers in every lifecycle stage, with varied contact details and consents;
- hand-written edge cases: idle exactly 90 / 365 days (and one second short), missing
  emails and phones, consent false, bounced emails, birthdays today / in 7 days /
  in 8 days / on 29 February, signup anniversaries near a UTC date line, carts exactly
  7 days old, purchases without an amount, corporate (b2b) accounts;
- times written the ways real exports write them: with an offset, in UTC (`Z`),
  without an offset (meaning Asia/Shanghai), date only, and epoch seconds;
- events shuffled (not in time order, not grouped by customer), a couple of events for
  a customer that is not in the export (they go to the rejects file);
- non-ASCII names and stores, fields with commas and quotes (written quoted by `csv`);
- the contact history (email_sent, sms_sent, push_sent, wechat_sent events), loyalty points
  and back-in-stock notices, with edge cases for the frequency caps (a contact exactly one
  window ago and one second less, Monday 00:00 in Shanghai), points expiring today / in 14
  days / in 15 days, restocks of a browsed and of a non-browsed product, equal spend at the
  edge of the WINBACK20 budget, and customers placed in or out of the holdout group.

The first part (edge cases, then the random customers) draws from one random generator; the
contact history, points and restocks of the random customers draw from a second one, and the
later edge cases come last, so adding them left the earlier customers as they were.

Usage: python3 generate.py            (writes next to this file, in data/)
"""

import csv
import os
import random
import sys
from datetime import date, datetime, timedelta, timezone

SEED = 20261123
SHANGHAI = timezone(timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991
AS_OF = datetime(2026, 11, 23, 9, 0, 0, tzinfo=SHANGHAI)  # must match rekindle.yaml
TODAY = AS_OF.date()

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from rekindle_ref import bucket  # noqa: E402  (the documented hash, to place edge cases)

HOLDOUT_SALT = "retail-2026q4"   # must match the `holdout` line of retail.rules
HOLDOUT = 0.10

rng = random.Random(SEED)
rng2 = random.Random(SEED + 1)  # contact history, points and restocks of random customers

CUSTOMER_COLUMNS = [
    "customer_id", "name", "signup_at", "email", "phone", "app_token", "birthday",
    "account_type", "consent_email", "consent_sms", "consent_push", "email_bounced",
    "preferred_store", "price_sensitivity", "points_balance", "points_expire_on",
]
EVENT_COLUMNS = ["customer_id", "at", "kind", "amount", "product", "channel", "opened"]

GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Tao", "Hui", "Jun", "Xin", "Ling",
         "Hao", "Emma", "Lucas", "Mia", "Noah", "Chloé", "Zoë", "José", "Anaïs"]
FAMILY = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
          "Martin", "Müller", "García", "Smith", "Nguyen"]
CHINESE_NAMES = ["李伟", "王芳", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄涛", "周杰", "吴欣"]
STORES = ["上海静安店", "北京三里屯店", "深圳万象城店", "Shanghai Xintiandi, Shop 12",
          "Hangzhou West Lake", "Chengdu Taikoo Li", "Guangzhou Tianhe, Level 2"]
PRODUCTS = ["Running shoes", "Tote bag, canvas", 'Mug "Classic"', "羊绒围巾",
            "Linen shirt", "Wool coat", "Yoga mat", "Bluetooth speaker", "保温杯",
            "Desk lamp", "Sneakers, white", "Silk pillowcase", "Backpack 25L"]
WEB_CHANNELS = ["web", "app", "store"]
SENSITIVITIES = ["price", "feature", "experience", None]

customers = []  # list of dicts
events = []     # list of dicts


# --- formatting -----------------------------------------------------------------------

def fmt_time(t, style=None):
    """Write an aware datetime the way one of the source systems would."""
    if style is None:
        style = rng.choices(["offset", "local", "localT", "utc", "epoch"], [5, 4, 2, 2, 1])[0]
    if style == "offset":
        return t.astimezone(SHANGHAI).isoformat()
    if style == "local":
        return t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    if style == "localT":
        return t.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
    if style == "utc":
        return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "epoch":
        return str(int(t.timestamp()))
    if style == "date":  # midnight local: the time is lost
        return t.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    raise ValueError(style)


def b(x):
    return "" if x is None else ("true" if x else "false")


def ago(days=0, hours=0, minutes=0, seconds=0):
    return AS_OF - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def rand_ago(lo_days, hi_days):
    """A random time between lo_days and hi_days before as_of (during opening hours)."""
    d = rng.randint(lo_days, hi_days)
    t = (AS_OF - timedelta(days=d)).replace(hour=rng.randint(8, 21), minute=rng.randint(0, 59),
                                            second=rng.randint(0, 59))
    if t > AS_OF:  # d == 0 and a later hour: move to the morning
        t = AS_OF - timedelta(minutes=rng.randint(1, 59))
    return t


# --- customers --------------------------------------------------------------------------

_next_id = [0]


def new_id(held_out=None):
    """The next id; with held_out True / False, the next one in / out of the holdout group
    (skipping ids, as deleted accounts do), so that an edge case tests what it is meant to."""
    while True:
        _next_id[0] += 1
        cid = "R%04d" % _next_id[0]
        if held_out is None or (bucket(cid, HOLDOUT_SALT) < HOLDOUT) == held_out:
            return cid


def random_name():
    r = rng.random()
    if r < 0.25:
        return rng.choice(CHINESE_NAMES)
    if r < 0.35:
        return "%s, %s" % (rng.choice(FAMILY), rng.choice(GIVEN))  # "Family, Given"
    if r < 0.40:
        return ""
    return "%s %s" % (rng.choice(GIVEN), rng.choice(FAMILY))


def random_birthday():
    r = rng.random()
    if r < 0.15:
        return None
    if r < 0.21:  # birthday soon: today .. in 7 days
        d = TODAY + timedelta(days=rng.randint(0, 7))
    elif r < 0.26:  # just outside: in 8 .. 10 days, or earlier this week
        d = TODAY + timedelta(days=rng.choice([8, 9, 10, -1, -3]))
    else:
        d = date(2001, 1, 1) + timedelta(days=rng.randint(0, 364))
    year = rng.randint(1960, 2006)
    return date(year, d.month, d.day)


def add_customer(signup, **kw):
    """Add a customer with random contact details; keyword arguments override them."""
    cid = new_id(kw.pop("held_out", None))
    name = random_name()
    has_email = rng.random() < 0.88
    c = {
        "customer_id": cid,
        "name": name,
        "signup_at": fmt_time(signup) if isinstance(signup, datetime) else signup,
        "email": ("%s%d@%s" % (rng.choice(["li", "wang", "mia", "tao", "jun", "emma"]),
                               rng.randint(1, 9999),
                               rng.choice(["qq.com", "163.com", "gmail.com", "example.cn"]))
                  if has_email else ""),
        "phone": ("1%d%09d" % (rng.choice([3, 5, 8]), rng.randint(0, 999999999))
                  if rng.random() < 0.75 else ""),
        "app_token": ("apt_%012x" % rng.getrandbits(48)) if rng.random() < 0.45 else "",
        "birthday": random_birthday(),
        "account_type": "b2c",
        "consent_email": rng.random() < 0.80,
        "consent_sms": rng.random() < 0.60,
        "consent_push": rng.random() < 0.70,
        "email_bounced": rng.choices([None, False, True], [50, 40, 10])[0],
        "preferred_store": rng.choice(STORES + [None, None, None]),
        "price_sensitivity": rng.choice(SENSITIVITIES),
        "points_balance": None,
        "points_expire_on": None,
    }
    if kw.pop("reachable", False):  # edge cases about something else: make email work
        c["email"] = c["email"] or "member%s@example.cn" % cid[1:]
        c["consent_email"], c["email_bounced"] = True, None
        c["birthday"] = None  # so a random birthday does not decide the offer
    c.update(kw)
    customers.append(c)
    return cid


def ev(cid, t, kind, amount=None, product=None, channel=None, opened=None, style=None):
    events.append({
        "customer_id": cid,
        "at": t if isinstance(t, str) else fmt_time(t, style),
        "kind": kind,
        "amount": "" if amount is None else ("%.2f" % amount if isinstance(amount, float) else str(amount)),
        "product": product or "",
        "channel": channel or "",
        "opened": b(opened),
    })


def purchase(cid, t, amount=None, style=None):
    if amount is None:
        amount = round(rng.lognormvariate(5.3, 0.8), 2)
    ev(cid, t, "purchase", amount, rng.choice(PRODUCTS), rng.choice(WEB_CHANNELS), style=style)


def visit(cid, t, style=None):
    ev(cid, t, "visit", None, rng.choice(PRODUCTS), rng.choice(WEB_CHANNELS), style=style)


def cart(cid, t, style=None):
    ev(cid, t, "cart_add", None, rng.choice(PRODUCTS), rng.choice(["web", "app"]), style=style)


def email(cid, t, opened):
    ev(cid, t, "email_sent", channel="email", opened=opened)
    if opened:
        ev(cid, t + timedelta(hours=rng.randint(1, 30)), "email_open", channel="email")


def newsletter(cid, lo, hi, n, p_open):
    """n marketing emails sent between lo and hi days ago."""
    for _ in range(n):
        t = rand_ago(lo, hi)
        opened = rng.random() < p_open
        if opened and t + timedelta(hours=31) > AS_OF:
            opened = False  # an open would land after as_of
        email(cid, t, opened)


def signup_before(t, lo_days, hi_days):
    return t - timedelta(days=rng.randint(lo_days, hi_days), hours=rng.randint(0, 12))


# --- random customers, by the lifecycle they were generated for ------------------------
# (The stage Rekindle gives them is computed from the data, not from this label.)

def gen_new():
    signup = rand_ago(0, 300)
    cid = add_customer(signup)
    if rng.random() < 0.4:  # browsed as a guest before signing up
        for _ in range(rng.randint(1, 3)):
            visit(cid, signup - timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 20)))
    days_since_signup = (AS_OF - signup).days
    if rng.random() < 0.5 and days_since_signup > 0:
        for _ in range(rng.randint(1, 4)):
            visit(cid, rand_ago(0, days_since_signup))
    if rng.random() < 0.25 and days_since_signup > 0:
        cart(cid, rand_ago(0, min(days_since_signup, 20)))
    if days_since_signup > 3:
        newsletter(cid, 0, days_since_signup - 2, rng.randint(0, 4), 0.4)


def gen_first_purchase():
    t_order = rand_ago(1, 88)
    signup = signup_before(t_order, 0, 400)
    cid = add_customer(signup)
    purchase(cid, t_order)
    r = rng.random()
    if r < 0.35:  # cart left in the last week
        cart(cid, rand_ago(0, 6))
    elif r < 0.65:  # browsed in the last week, nothing added
        visit(cid, rand_ago(0, 6))
        if rng.random() < 0.3:
            cart(cid, rand_ago(9, 30))
    elif r < 0.80:  # interest, but too long ago
        cart(cid, rand_ago(8, 40))
    if rng.random() < 0.5:
        newsletter(cid, 0, 80, rng.randint(1, 4), 0.5)


def gen_active(high_value=False):
    last = rand_ago(0, 85)
    earlier = [last - timedelta(days=rng.randint(1, 700), hours=rng.randint(0, 10))
               for _ in range(rng.randint(1, 11))]
    cid = add_customer(signup_before(min(earlier), 0, 800))
    purchase(cid, last, round(rng.uniform(900, 2600), 2) if high_value else None)
    for t in earlier:
        purchase(cid, t, round(rng.uniform(300, 1500), 2) if high_value else None)
    for _ in range(rng.randint(0, 5)):
        visit(cid, rand_ago(0, 60))
    if rng.random() < 0.2:
        cart(cid, rand_ago(0, 6))
    newsletter(cid, 0, 120, rng.randint(0, 6), 0.6)


def gen_at_risk():
    last = rand_ago(91, 600)
    times = [last] + [last - timedelta(days=rng.randint(1, 500)) for _ in range(rng.randint(0, 7))]
    cid = add_customer(signup_before(min(times), 0, 700))
    for t in times:
        purchase(cid, t)
    if last < ago(days=364):  # no order for a year, but still around
        if rng.random() < 0.5:
            visit(cid, rand_ago(2, 300))
        else:
            email(cid, rand_ago(2, 300), True)
    elif rng.random() < 0.4:
        visit(cid, rand_ago(10, 80))
    newsletter(cid, 0, 200, rng.randint(0, 5), 0.15)


def gen_dormant():
    last = rand_ago(366, 1500)
    if rng.random() < 0.8:
        times = [last] + [last - timedelta(days=rng.randint(1, 600)) for _ in range(rng.randint(0, 5))]
        cid = add_customer(signup_before(min(times), 0, 500))
        for t in times:
            purchase(cid, t)
    else:  # signed up, never bought, never came back
        cid = add_customer(last)
    newsletter(cid, 0, 360, rng.randint(0, 6), 0.0)  # we kept mailing; nobody opened


def gen_anniversary_at_risk():
    """At risk, member for years, signup anniversary in the next week."""
    day = TODAY + timedelta(days=rng.randint(0, 7))
    signup = datetime(rng.randint(2019, 2024), day.month, day.day, rng.randint(9, 20),
                      rng.randint(0, 59), tzinfo=SHANGHAI)
    cid = add_customer(signup, email_bounced=False, consent_email=True)
    for _ in range(rng.randint(1, 4)):
        purchase(cid, rand_ago(100, 300))


def gen_birthday_buyer():
    """A repeat or first-time buyer whose birthday is this week."""
    d = TODAY + timedelta(days=rng.randint(0, 7))
    last = rand_ago(2, 60)
    earlier = [last - timedelta(days=rng.randint(3, 400)) for _ in range(rng.randint(0, 3))]
    cid = add_customer(signup_before(min([last] + earlier), 10, 900),
                       birthday=date(rng.randint(1965, 2004), d.month, d.day))
    for t in [last] + earlier:
        purchase(cid, t)


# --- hand-written edge cases ------------------------------------------------------------

def edge_cases():
    ok = dict(reachable=True)  # reachable by email

    # Thresholds: idle exactly 90 days (several spellings of the same instant) and one
    # second short of it.
    c = add_customer(ago(days=700), name="Exactly 90d (offset)", **ok)
    purchase(c, ago(days=90), style="offset"); purchase(c, ago(days=200))
    c = add_customer(ago(days=700), name="Exactly 90d (UTC)", **ok)
    purchase(c, ago(days=90), style="utc"); purchase(c, ago(days=300))
    c = add_customer(ago(days=700), name="Exactly 90d (local, no offset)", **ok)
    purchase(c, ago(days=90), style="local")
    c = add_customer(ago(days=700), name="Exactly 90d (epoch)", **ok)
    purchase(c, ago(days=90), style="epoch"); purchase(c, ago(days=95))
    c = add_customer(ago(days=700), name="90d minus 1s, repeat buyer", **ok)
    purchase(c, ago(days=90, seconds=-1), style="offset"); purchase(c, ago(days=150))
    c = add_customer(ago(days=700), name="90d minus 1s, one order", **ok)
    purchase(c, ago(days=90, seconds=-1), style="utc")

    # Exactly 365 days without anything: dormant. One second less: at risk. The order
    # exactly 365 days ago still counts in the 12-month spend.
    c = add_customer(ago(days=900), name="Exactly 365d, big spender", **ok)
    purchase(c, ago(days=365), 2500.0, style="offset"); purchase(c, ago(days=500))
    c = add_customer(ago(days=900), name="365d minus 1s, big spender", **ok)
    purchase(c, ago(days=365, seconds=-1), 2500.0, style="utc")
    c = add_customer(ago(days=900), name="365d plus 1s, big spender", **ok)
    purchase(c, ago(days=365, seconds=1), 2500.0, style="local")
    c = add_customer(ago(days=900), name="Last order date-only, 365d + 9h", **ok)
    purchase(c, "2025-11-23", 120.0)
    add_customer(ago(days=365), name="Signed up exactly 365d ago, nothing since", **ok)
    add_customer(ago(days=365, seconds=-1), name="Signed up 365d minus 1s ago", **ok)
    add_customer("2025-11-23", name="Signed up on a date, 365d + 9h ago", **ok)
    # Spend exactly at the high-value line (1200.5 + 799.5 = 2000).
    c = add_customer(ago(days=400), name="Spend exactly 2000", **ok)
    purchase(c, ago(days=10), 1200.5); purchase(c, ago(days=40), 799.5)
    c = add_customer(ago(days=400), name="Spend 1999.99", **ok)
    purchase(c, ago(days=10), 1200.49); purchase(c, ago(days=40), 799.5)
    c = add_customer(ago(days=400), name="Purchase without amount", **ok)
    purchase(c, ago(days=12), 1800.0); ev(c, ago(days=20), "purchase", None, "Gift card", "store")

    # Behaviour keeps a customer out of dormant; what we send does not.
    c = add_customer(ago(days=1000), name="Old buyer, visited last week", **ok)
    purchase(c, ago(days=400)); visit(c, ago(days=10))
    c = add_customer(ago(days=1000), name="Old buyer, only our emails since", **ok)
    purchase(c, ago(days=400)); newsletter(c, 1, 300, 5, 0.0)
    c = add_customer(ago(days=1000), name="Old buyer, opened an email", **ok)
    purchase(c, ago(days=400)); email(c, ago(days=100), True)
    c = add_customer(ago(days=500), name="Registered long ago, browses now", **ok)
    visit(c, ago(days=3)); visit(c, ago(days=1))
    c = add_customer(ago(days=2), name="Browsed as a guest, then signed up", **ok)
    visit(c, ago(days=32)); visit(c, ago(days=35)); cart(c, ago(days=33))

    # Channel choice.
    c = add_customer(ago(days=50), name="Bounced, has the app", email_bounced=True, consent_email=True,
                     app_token="apt_bounced01", consent_push=True)
    purchase(c, ago(days=20)); purchase(c, ago(days=5))
    c = add_customer(ago(days=800), name="Bounced, at risk, SMS ok", email_bounced=True, consent_email=True,
                     app_token="", consent_push=True, phone="13800000001", consent_sms=True)
    purchase(c, ago(days=150))
    c = add_customer(ago(days=800), name="Bounced, active, SMS ok", email_bounced=True, consent_email=True,
                     app_token="", phone="13800000002", consent_sms=True)
    purchase(c, ago(days=15)); purchase(c, ago(days=30))
    c = add_customer(ago(days=800), name="No email address, dormant, SMS ok", email="",
                     consent_email=True, app_token="", phone="13800000003", consent_sms=True)
    purchase(c, ago(days=800))
    c = add_customer(ago(days=100), name="Email but no consent", email="noconsent@example.cn",
                     consent_email=False, app_token="", phone="", consent_sms=False)
    purchase(c, ago(days=10)); purchase(c, ago(days=20))
    c = add_customer(ago(days=100), name="Push consent, no app", email="", app_token="",
                     consent_push=True, phone="13800000004", consent_sms=False)
    purchase(c, ago(days=10))
    c = add_customer(ago(days=100), name="App, no push consent", email="", app_token="apt_noconsent",
                     consent_push=False, phone="", consent_sms=True)
    visit(c, ago(days=4))
    c = add_customer(ago(days=100), name="No phone, SMS consent, at risk", email="", app_token="",
                     phone="", consent_sms=True)
    purchase(c, ago(days=120))
    c = add_customer(ago(days=100), name="Bounce flag false", email_bounced=False, consent_email=True,
                     email="ok@example.cn")
    purchase(c, ago(days=10)); purchase(c, ago(days=11))

    # Birthdays (today is 23 November).
    for bd, label in [(date(1990, 11, 23), "today"), (date(1985, 11, 30), "in 7 days"),
                      (date(1979, 12, 1), "in 8 days"), (date(1992, 2, 29), "29 February"),
                      (date(1995, 11, 22), "yesterday"), (None, "unknown")]:
        c = add_customer(ago(days=300), name="Birthday " + label, birthday=bd, **ok)
        purchase(c, ago(days=5)); purchase(c, ago(days=25))
    c = add_customer(ago(days=30), name="New member, birthday today", birthday=date(2000, 11, 23), **ok)
    c = add_customer(ago(days=2000), name="Dormant, birthday in 3 days", birthday=date(1970, 11, 26), **ok)
    purchase(c, ago(days=700))
    c = add_customer(ago(days=60), name="First order, birthday in 7 days, cart left",
                     birthday=date(1999, 11, 30), price_sensitivity="price", **ok)
    purchase(c, ago(days=20)); cart(c, ago(days=2))

    # Signup anniversaries, read in Asia/Shanghai.
    c = add_customer("2023-11-22T20:00:00Z", name="Anniversary today in Shanghai (22 Nov in UTC)", **ok)
    purchase(c, ago(days=200))
    c = add_customer("2024-11-30T23:30:00Z", name="Anniversary 1 Dec in Shanghai (30 Nov in UTC)", **ok)
    purchase(c, ago(days=200))
    c = add_customer("2025-11-25T10:00:00+08:00", name="Anniversary soon but member < 1 year", **ok)
    purchase(c, ago(days=150))
    c = add_customer(ago(days=365), name="Member exactly one year, anniversary today", **ok)
    purchase(c, ago(days=100))
    c = add_customer("2022-11-16 10:00:00", name="Anniversary a week ago", **ok)
    purchase(c, ago(days=100))
    c = add_customer("2016-02-29 12:00:00", name="Signed up on 29 February", **ok)
    purchase(c, ago(days=100))

    # Carts and browsing of first-time buyers.
    c = add_customer(ago(days=90), name="Cart exactly 7 days ago", price_sensitivity="price", **ok)
    purchase(c, ago(days=30)); cart(c, ago(days=7), style="offset")
    c = add_customer(ago(days=90), name="Cart 7 days and 1 second ago", price_sensitivity="price", **ok)
    purchase(c, ago(days=30)); cart(c, ago(days=7, seconds=1), style="utc")
    c = add_customer(ago(days=90), name="Cart, then ordered", price_sensitivity="feature", **ok)
    cart(c, ago(days=3)); purchase(c, ago(days=2))
    c = add_customer(ago(days=90), name="Cart and order at the same second", price_sensitivity="feature", **ok)
    cart(c, ago(days=3), style="offset"); purchase(c, ago(days=3), style="utc")
    c = add_customer(ago(days=90), name="Cart after the order", price_sensitivity="experience", **ok)
    cart(c, ago(days=2)); purchase(c, ago(days=5))
    c = add_customer(ago(days=90), name="Browsed yesterday", price_sensitivity="experience",
                     preferred_store="上海静安店", **ok)
    purchase(c, ago(days=30)); visit(c, ago(days=1))
    c = add_customer(ago(days=90), name="Browsed yesterday, old cart", price_sensitivity="price", **ok)
    purchase(c, ago(days=30)); visit(c, ago(days=1)); cart(c, ago(days=10))
    c = add_customer(ago(days=90), name="Cart then browse", price_sensitivity="feature", **ok)
    purchase(c, ago(days=30)); cart(c, ago(days=6)); visit(c, ago(days=1))
    c = add_customer(ago(days=90), name="Cart left, sensitivity unknown", price_sensitivity=None, **ok)
    purchase(c, ago(days=30)); cart(c, ago(days=1))
    c = add_customer(ago(days=90), name="Browsed 7 days ago exactly", price_sensitivity="experience", **ok)
    purchase(c, ago(days=40)); visit(c, ago(days=7), style="epoch")

    # Corporate accounts: decided and contacted, but no personal incentives.
    for i in range(4):
        c = add_customer(ago(days=800), name="Acme Trading, buyer %d" % (i + 1), account_type="b2b",
                         preferred_store=None, **ok)
        purchase(c, ago(days=[10, 120, 30, 500][i]), 5000.0)
        if i == 2:
            purchase(c, ago(days=60), 3000.0)


# --- contact history, points and restocks of the random customers (second generator) -------

def style2():
    return rng2.choices(["offset", "local", "localT", "utc", "epoch"], [5, 4, 2, 2, 1])[0]


def rand2_ago(lo_days, hi_days):
    d = rng2.randint(lo_days, hi_days)
    t = (AS_OF - timedelta(days=d)).replace(hour=rng2.randint(8, 21), minute=rng2.randint(0, 59),
                                             second=rng2.randint(0, 59))
    if t > AS_OF:
        t = AS_OF - timedelta(minutes=rng2.randint(1, 59))
    return t


def sent(cid, chan, t, style=None):
    """A message we sent: a contact for the frequency caps (kind <channel>_sent)."""
    ev(cid, t, chan + "_sent", channel=chan, opened=False if chan == "email" else None,
       style=style or style2())


def restock(cid, t, product, style=None):
    """A back-in-stock notice: the restock feed, fanned out to the customers who follow the
    product's category, so the product may or may not be one this customer looked at."""
    ev(cid, t, "back_in_stock", None, product, style=style or style2())


def random_extras(cs):
    for c in cs:
        cid = c["customer_id"]
        if rng2.random() < 0.45:  # a loyalty points balance
            c["points_balance"] = 0 if rng2.random() < 0.1 else rng2.randint(50, 5000)
            if rng2.random() < 0.9:
                c["points_expire_on"] = TODAY + timedelta(days=rng2.randint(-20, 120))
        if c["app_token"] and rng2.random() < 0.5:
            for _ in range(rng2.randint(1, 3)):
                sent(cid, "push", rand2_ago(0, 20))
        if c["phone"] and c["consent_sms"] and rng2.random() < 0.35:
            for _ in range(rng2.randint(1, 2)):
                sent(cid, "sms", rand2_ago(0, 40))
        if rng2.random() < 0.2:  # the WeChat team's messages count toward `cap any`
            for _ in range(rng2.randint(1, 4)):
                sent(cid, "wechat", rand2_ago(0, 30))
        if rng2.random() < 0.15:  # a campaign burst: some of these hit the email caps
            for _ in range(rng2.randint(2, 3)):
                sent(cid, "email", rand2_ago(0, 8))
        if rng2.random() < 0.3:
            looked = sorted({e["product"] for e in events
                             if e["customer_id"] == cid and e["kind"] == "visit" and e["product"]})
            product = rng2.choice(looked) if looked and rng2.random() < 0.6 else rng2.choice(PRODUCTS)
            restock(cid, rand2_ago(0, 6), product)


# --- edge cases of the caps, points, restocks, budgets and holdout ------------------------
# Added after the random customers, out of the holdout group unless the case is about it.

MONDAY = AS_OF.replace(hour=0, minute=0, second=0)  # 2026-11-23 00:00 in Shanghai, a Monday


def at_local(y, m, d, hh=0, mi=0, ss=0):
    return datetime(y, m, d, hh, mi, ss, tzinfo=SHANGHAI)


def active_member(name, **kw):
    """Reachable by email, two recent orders (active, NEW_ARRIVALS), not held out."""
    kw.setdefault("held_out", False)
    c = add_customer(ago(days=400), name=name, reachable=True, **kw)
    purchase(c, ago(days=5), 180.0); purchase(c, ago(days=40), 260.0)
    return c


def at_risk_member(name, spend=150.0, **kw):
    """Reachable by email, one order 150 days ago (at risk), not held out unless asked."""
    kw.setdefault("held_out", False)
    c = add_customer(ago(days=700), name=name, reachable=True, **kw)
    purchase(c, ago(days=150), spend)
    return c


def dormant_member(name, **kw):
    kw.setdefault("held_out", False)
    c = add_customer(ago(days=1500), name=name, reachable=True, **kw)
    purchase(c, ago(days=500), 90.0)
    return c


def edge_cases_contacts():
    week, day = 7, 1
    # Email, 2 per 7d: a contact exactly 7 days ago has left the window (t - 7d < c <= t).
    c = active_member("Email cap: 2nd email exactly 7d ago")
    sent(c, "email", ago(days=week), "offset"); sent(c, "email", ago(days=1))
    c = active_member("Email cap: 2nd email 7d minus 1s ago")
    sent(c, "email", ago(days=week, seconds=-1), "utc"); sent(c, "email", ago(days=1))
    c = active_member("Email cap: three emails in 7 days")
    sent(c, "email", ago(days=6)); sent(c, "email", ago(days=2), "epoch"); sent(c, "email", ago(hours=1))
    # Email, 6 per 30d.
    c = active_member("Email cap: six emails in 30 days")
    for d in (29, 25, 20, 15, 10, 8):
        sent(c, "email", ago(days=d))
    c = active_member("Email cap: 6th email exactly 30d ago")
    for d in (30, 25, 20, 15, 10, 8):
        sent(c, "email", ago(days=d), "offset")
    # Both email windows free up at the same second: the first declared is named.
    c = active_member("Email caps tie: 7d and 30d free up together")
    for d in (25, 20, 15, 10, 2, 1):
        sent(c, "email", ago(days=d))
    # cap any: 8 per 30d over every channel, WeChat (not one of our channels) included.
    c = active_member("Any cap: 8 across email, push and WeChat")
    for chan, d in (("email", 20), ("email", 12), ("push", 25), ("push", 18), ("push", 9),
                    ("wechat", 28), ("wechat", 4), ("wechat", 3)):
        sent(c, chan, ago(days=d))
    c = active_member("Email and any caps full, any stays full longer")
    for d in (20, 18, 16, 14, 12, 8):
        sent(c, "email", ago(days=d))
    for d in (5, 4, 3):
        sent(c, "push", ago(days=d))
    c = active_member("Email and any caps full, email stays full longer")
    for h in (240, 228, 216, 204, 192, 180):  # 10 days to 7.5 days ago: none in the last 7 days
        sent(c, "email", ago(hours=h))
    sent(c, "wechat", ago(days=29)); sent(c, "wechat", ago(days=28))
    c = active_member("Email queued after as_of does not count yet")
    sent(c, "email", ago(days=1)); sent(c, "email", ago(hours=-2), "offset")
    # Dormant customers: only the calendar-week line applies (first conditional line that holds).
    c = dormant_member("Dormant, emailed Monday 00:00 (date only)")
    sent(c, "email", MONDAY, "date")
    c = dormant_member("Dormant, emailed Monday 00:00 written in UTC")
    sent(c, "email", "2026-11-22T16:00:00Z")
    c = dormant_member("Dormant, emailed Sunday 23:59:59")
    sent(c, "email", MONDAY - timedelta(seconds=1), "local")
    c = dormant_member("Dormant, three emails last week")
    for t in (at_local(2026, 11, 19, 10), at_local(2026, 11, 20, 10), MONDAY - timedelta(seconds=1)):
        sent(c, "email", t, "offset")
    # Push (no email): 1 per calendar day, 2 per calendar week.
    for k, (name, times) in enumerate([
            ("Push cap: Monday 00:00 and 08:59:59", [MONDAY, ago(seconds=1)]),
            ("Push cap: Sunday 23:59:59 and Monday 00:00", [MONDAY - timedelta(seconds=1), MONDAY]),
            ("Push cap: Sunday 23:59:59 only", [MONDAY - timedelta(seconds=1)])]):
        c = add_customer(ago(days=300), name=name, held_out=False, email="",
                         app_token="apt_pushcap%02d" % (k + 1), consent_push=True)
        purchase(c, ago(days=3), 99.0); purchase(c, ago(days=33), 120.0)
        for t in times:
            sent(c, "push", t, "offset")
    # SMS (bounced email, no app), 1 per 14d; at risk.
    sms_only = dict(email_bounced=True, consent_email=True, app_token="", consent_sms=True)
    c = add_customer(ago(days=900), name="SMS: last SMS exactly 14 days ago, big spender",
                     phone="13800000101", held_out=False, **sms_only)
    purchase(c, ago(days=200), 5200.0)
    sent(c, "sms", ago(days=14), "epoch")
    c = add_customer(ago(days=900), name="SMS: last SMS 14 days minus 1s ago, small spender",
                     phone="13800000102", held_out=False, **sms_only)
    purchase(c, ago(days=200), 12.0)
    sent(c, "sms", ago(days=14, seconds=-1), "offset")


def edge_cases_points():
    for name, balance, expires in [
            ("Points expire today", 800, TODAY),
            ("Points expire in 14 days", 800, TODAY + timedelta(days=14)),
            ("Points expire in 15 days", 800, TODAY + timedelta(days=15)),
            ("Points expired yesterday", 800, TODAY - timedelta(days=1)),
            ("Zero points, expiring in 3 days", 0, TODAY + timedelta(days=3)),
            ("Points without an expiry date", 500, None)]:
        at_risk_member(name, points_balance=balance, points_expire_on=expires)
    at_risk_member("Points expiring, birthday today", points_balance=300,
                   points_expire_on=TODAY + timedelta(days=2))
    customers[-1]["birthday"] = date(1988, 11, 23)
    c = add_customer("2022-11-25 10:00:00", name="Points expiring, anniversary this week",
                     reachable=True, held_out=False, points_balance=300,
                     points_expire_on=TODAY + timedelta(days=5))
    purchase(c, ago(days=150), 150.0)
    active_member("Active, points expiring in 3 days", points_balance=2000,
                  points_expire_on=TODAY + timedelta(days=3))


def edge_cases_restock():
    def look(c, t, product, style=None):
        ev(c, t, "visit", None, product, "app", style=style)

    c = active_member("Browsed product back in stock")
    look(c, ago(days=10), "Yoga mat"); restock(c, ago(days=1), "Yoga mat")
    c = active_member("Another product back in stock")
    look(c, ago(days=10), "Yoga mat"); restock(c, ago(days=1), "Desk lamp")
    c = active_member("Browsed exactly 30d ago, back in stock")
    look(c, ago(days=30), "Wool coat", "offset"); restock(c, ago(days=1), "Wool coat")
    c = active_member("Browsed 30d and 1s ago, back in stock")
    look(c, ago(days=30, seconds=1), "Wool coat", "utc"); restock(c, ago(days=1), "Wool coat")
    c = active_member("Back in stock exactly 3d ago")
    look(c, ago(days=8), "Linen shirt"); restock(c, ago(days=3), "Linen shirt", "epoch")
    c = active_member("Back in stock 3d and 1s ago")
    look(c, ago(days=8), "Linen shirt"); restock(c, ago(days=3, seconds=1), "Linen shirt", "local")
    c = active_member("Browsed 羊绒围巾, back in stock")
    look(c, ago(days=4), "羊绒围巾"); restock(c, ago(days=2), "羊绒围巾")
    c = active_member('Browsed Mug "Classic", back in stock')
    look(c, ago(days=4), 'Mug "Classic"'); restock(c, ago(days=2), 'Mug "Classic"')
    c = active_member("Back in stock, name differs in case")
    look(c, ago(days=4), "Running shoes"); restock(c, ago(days=2), "running shoes")
    c = active_member("Bought it, never browsed it, back in stock")
    ev(c, ago(days=20), "purchase", 75.0, "Backpack 25L", "web"); restock(c, ago(days=1), "Backpack 25L")
    c = active_member("Browsed after it came back")
    restock(c, ago(days=2), "Desk lamp"); look(c, ago(days=1), "Desk lamp")
    c = at_risk_member("At risk, browsed product back in stock")
    look(c, ago(days=6), "Yoga mat"); restock(c, ago(days=1), "Yoga mat")


def edge_cases_budget_holdout():
    # Equal spend at the edge of the WINBACK20 budget: the bucket of "WINBACK20" decides.
    for k in "ABC":
        at_risk_member("Budget tie %s" % k, spend=TIE_SPEND)
    # Held out: every decision computed, nothing sent, no budget used.
    at_risk_member("Held out, top spender for WINBACK20", spend=4800.0, held_out=True)
    c = active_member("Held out, email cap full", held_out=True)
    sent(c, "email", ago(days=2)); sent(c, "email", ago(days=1))
    c = add_customer(ago(days=900), name="Held out, at risk by SMS", phone="13800000103",
                     held_out=True, email_bounced=True, consent_email=True, app_token="", consent_sms=True)
    purchase(c, ago(days=200), 6000.0)


# Chosen so that the three tied customers straddled the budget's edge (ranks 29-31) when
# suppressed customers still used WINBACK20 slots. Now that only customers a message reaches
# use one, an SMS-capped customer above them no longer does, and they rank 28-30, inside it.
TIE_SPEND = 170.0


def main():
    edge_cases()
    plan = ([gen_new] * 40 + [gen_first_purchase] * 55 + [gen_active] * 30
            + [lambda: gen_active(True)] * 10 + [gen_at_risk] * 40 + [gen_dormant] * 35
            + [gen_anniversary_at_risk] * 6 + [gen_birthday_buyer] * 8)
    rng.shuffle(plan)
    first_random = len(customers)
    for g in plan:
        g()
    random_extras(customers[first_random:])
    edge_cases_contacts()
    edge_cases_points()
    edge_cases_restock()
    edge_cases_budget_holdout()

    # Events for a customer that is not in the export (account deleted): Rekindle rejects them.
    ev("R9999", ago(days=3), "visit", None, "Yoga mat", "web")
    ev("R9999", ago(days=2), "purchase", 88.0, "Yoga mat", "web")

    rng.shuffle(events)  # exports are not sorted by customer or time

    os.makedirs(DATA, exist_ok=True)
    with open(os.path.join(DATA, "customers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, CUSTOMER_COLUMNS, lineterminator="\n")
        w.writeheader()
        for c in customers:
            row = dict(c)
            for k in ("consent_email", "consent_sms", "consent_push", "email_bounced"):
                row[k] = b(row[k])
            row["birthday"] = row["birthday"].isoformat() if row["birthday"] else ""
            row["preferred_store"] = row["preferred_store"] or ""
            row["price_sensitivity"] = row["price_sensitivity"] or ""
            row["points_balance"] = "" if row["points_balance"] is None else str(row["points_balance"])
            row["points_expire_on"] = row["points_expire_on"].isoformat() if row["points_expire_on"] else ""
            w.writerow(row)
    with open(os.path.join(DATA, "events.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, EVENT_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(events)
    print("wrote %d customers, %d events to %s" % (len(customers), len(events), DATA))


if __name__ == "__main__":
    main()
