"""Reference implementations of Rekindle's runtime mechanisms, for the examples' expected output.

Written from docs/runtime.md and docs/reference.md, in plain Python, independently of the C++
code: each example's reference.py implements its business rules on top of these, so that an
example's expected.csv says what the rules *should* decide. Standard library only (zoneinfo
uses the system tz database).
"""

import csv
import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

DAY = 86400

COLUMNS = ["customer_id", "stage", "segments", "channel", "send", "send_at", "suppressed_by",
           "next_eligible_at", "offer", "holdout", "transition", "rules", "rules_version", "decided_at"]


# ---- time ---------------------------------------------------------------------------------

def zone(name):
    return timezone.utc if name in ("UTC", "Etc/UTC", "Z") else ZoneInfo(name)


def from_local(y, m, d, hh, mi, ss, tz):
    """UTC seconds of a wall time; a time in a spring-forward gap moves forward, one that
    happens twice takes the earlier instant (fold=0 does both)."""
    return int(datetime(y, m, d, hh, mi, ss, tzinfo=tz).timestamp())


def parse_time(s, tz):
    """ISO 8601 (with or without offset, date only) or epoch seconds, as exports write them."""
    s = s.strip()
    if s.lstrip("-").isdigit():
        return int(s)
    if len(s) == 10:
        y, m, d = map(int, s.split("-"))
        return from_local(y, m, d, 0, 0, 0, tz)
    s = s.replace(" ", "T", 1)
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        return from_local(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, tz)
    return int(dt.timestamp())


def local_date(t, tz):
    return datetime.fromtimestamp(t, tz).date()


def day_start(date, tz):
    return from_local(date.year, date.month, date.day, 0, 0, 0, tz)


def format_time(t, tz):
    dt = datetime.fromtimestamp(t, tz)
    off = dt.utcoffset().total_seconds()
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if off == 0:
        return base + "Z"
    sign = "+" if off > 0 else "-"
    off = abs(int(off))
    return "%s%s%02d:%02d" % (base, sign, off // 3600, off // 60 % 60)


def duration_text(seconds):
    for unit, n in (("d", DAY), ("h", 3600), ("m", 60)):
        if seconds and seconds % n == 0:
            return "%d%s" % (seconds // n, unit)
    return "%ds" % seconds


# ---- buckets (holdout, budget tie-breaks) ---------------------------------------------------

def bucket(customer_id, salt):
    h = 0xcbf29ce484222325
    for b in salt.encode() + b"\x00" + customer_id.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    z = h
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return (z >> 11) / 2 ** 53


# ---- caps ---------------------------------------------------------------------------------

def check_window(count, window, contacts, now, tz):
    """window: seconds (rolling) or "day" / "week" / "month" (calendar).
    Returns (contacts counted, full, eligible_at)."""
    past = sorted(c for c in contacts if c <= now)
    if isinstance(window, int):
        inside = [c for c in past if c > now - window]
        n = len(inside)
        if n >= count:
            return n, True, inside[n - count] + window
        return n, False, now
    today = local_date(now, tz)
    if window == "day":
        first, nxt = today, today + timedelta(days=1)
    elif window == "week":
        first = today - timedelta(days=today.weekday())
        nxt = first + timedelta(days=7)
    else:
        first = today.replace(day=1)
        nxt = (first.replace(year=first.year + 1, month=1) if first.month == 12
               else first.replace(month=first.month + 1))
    start = day_start(first, tz)
    n = len([c for c in past if c >= start])
    if n >= count:
        return n, True, day_start(nxt, tz)
    return n, False, now


def window_text(count, window):
    if isinstance(window, int):
        return "%d per %s" % (count, duration_text(window))
    return "%d per calendar %s" % (count, window)


def apply_caps(cap_lines, channel, contacts_by_channel, now, tz):
    """cap_lines: dicts {target: channel or "any", windows: [(count, window)], when: bool or None}
    evaluated for this customer (when: None = unconditional). contacts_by_channel: channel ->
    list of times (all channels, also those not in the config). Returns (suppressed_by or "",
    next_eligible_at or None)."""
    own = [c for c in cap_lines if c["target"] == channel and c["when"] is not None and c["when"]][:1]
    if not own:
        own = [c for c in cap_lines if c["target"] == channel and c["when"] is None]
    lines = own + [c for c in cap_lines if c["target"] == "any" and (c["when"] is None or c["when"])]
    suppressed, eligible = "", now
    for line in lines:
        if line["target"] == "any":
            contacts = [t for ts in contacts_by_channel.values() for t in ts]
        else:
            contacts = contacts_by_channel.get(channel, [])
        for count, window in line["windows"]:
            n, full, at = check_window(count, window, contacts, now, tz)
            if full and (not suppressed or at > eligible):
                suppressed = "cap %s %s" % (line["target"], window_text(count, window))
                eligible = at
    return suppressed, (eligible if suppressed else None)


def quiet_send_time(now, quiet, tz):
    """quiet: "21:00-08:00". The end of the quiet window when now falls inside it, else now."""
    start, end = [int(p[:2]) * 60 + int(p[3:]) for p in quiet.split("-")]
    dt = datetime.fromtimestamp(now, tz)
    minute = dt.hour * 60 + dt.minute
    crosses = start > end
    inside = (minute >= start or minute < end) if crosses else (start <= minute < end)
    if not inside:
        return now
    day = dt.date() + timedelta(days=1) if crosses and minute >= start else dt.date()
    return max(now, from_local(day.year, day.month, day.day, end // 60, end % 60, 0, tz))


# ---- budgets ------------------------------------------------------------------------------

def allocate(rows, eligible, rank, holdout, consumes=None):
    """rows: list of (outcome name, limit or None, descending). eligible: customer id -> list
    of row indices (table order) whose condition holds (and, for channels, consent).
    rank: (customer id, row) -> rank value (None when null or no `rank by`). holdout: set of ids.
    consumes: (customer id, row) -> bool, default True: does this customer use the row's
    budget? A customer who does not takes the row without competing (docs/runtime.md, "Who
    counts against a limit"): on channel rows, False when the channel's caps would suppress
    the contact; on offer rows decided after the channel (the offer rows read `channel`),
    False when no message reaches the customer (no channel, `none`, or the caps of the chosen
    channel suppress it), so the channel, then its caps, must be decided before the offers.
    Held-out customers never compete. Returns (customer id -> row index or None, customer
    id -> first full row)."""
    consumes = consumes or (lambda c, r: True)
    got, full = {}, {}
    waiting = {r: [] for r in range(len(rows))}
    pos = {}
    for c, rs in eligible.items():
        if not rs:
            got[c] = None
        elif c in holdout:
            got[c] = rs[0]
        else:
            pos[c] = 0
            waiting[rs[0]].append(c)
    for r, (name, limit, descending) in enumerate(rows):
        here = waiting[r]
        if limit is None:
            for c in here:
                got[c] = r
            continue
        competing = [c for c in here if consumes(c, r)]
        for c in here:
            if not consumes(c, r):
                got[c] = r

        def key(c):
            v = rank(c, r)
            if v is None:
                primary = (1, 0)
            else:
                primary = (0, -v if descending else v) if not isinstance(v, str) else (0, v)
            return (primary, bucket(c, name), c.encode())
        if any(isinstance(rank(c, r), str) for c in competing):
            raise NotImplementedError("string rank keys: sort them yourself")
        competing.sort(key=key)
        for i, c in enumerate(competing):
            if i < limit:
                got[c] = r
                continue
            full.setdefault(c, r)
            rs = eligible[c]
            k = pos[c] + 1
            while k < len(rs) and rs[k] <= r:
                k += 1
            pos[c] = k
            if k < len(rs):
                waiting[rs[k]].append(c)
            else:
                got[c] = None
    return got, full


# ---- RFM ----------------------------------------------------------------------------------

def quantile7(sorted_values, p):
    n = len(sorted_values)
    h = (n - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def quintile_breaks(values):
    xs = sorted(values)
    return [quantile7(xs, p) for p in (0.2, 0.4, 0.6, 0.8)]


def quintile_score(v, breaks):
    return 1 + sum(1 for b in breaks if v >= b)


def rfm_scores(values):
    """values: id -> (recency days, frequency, monetary), only customers with purchases.
    Returns id -> (r, f, m)."""
    ids = list(values)
    br = [quintile_breaks([values[i][k] for i in ids]) for k in range(3)]
    return {i: (6 - quintile_score(values[i][0], br[0]), quintile_score(values[i][1], br[1]),
                quintile_score(values[i][2], br[2])) for i in ids}


def rfm_segment(r, f):
    if r <= 0 or f <= 0:
        return "No Purchases"
    if r == 5:
        return "New Customers" if f == 1 else "Potential Loyalists" if f <= 3 else "Champions"
    if r == 4:
        return "Promising" if f == 1 else "Potential Loyalists" if f <= 3 else "Loyal"
    if r == 3:
        return "About To Sleep" if f <= 2 else "Need Attention" if f == 3 else "Loyal"
    return "Hibernating" if f <= 2 else "At Risk" if f <= 4 else "Can't Lose Them"


# ---- output -------------------------------------------------------------------------------

def write_decisions(path, rows):
    """rows: dicts with the keys of COLUMNS (missing keys are empty; bools as Python bools)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(["true" if r.get(c) is True else "false" if r.get(c) is False else r.get(c, "")
                        for c in COLUMNS])
