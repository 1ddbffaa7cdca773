#!/usr/bin/env python3
"""Writes a stress rules file for the benchmark: the retail example's lets and segments, a
stage table of ROWS rows and an offer table of ROWS rows, each row comparing lets against
constants. It compiles with bench/rekindle.yaml (the offers are the config's catalogue).

    python3 bench/stress_rules.py 200 > bench/stress.rules      # committed
    python3 bench/stress_rules.py 1000 > build-bench/stress-1000.rules

Deterministic: the thresholds come from the row number, not from a random generator.
"""

import sys

OFFERS = ["WELCOME10", "FIRST_ORDER_DISCOUNT", "BESTSELLERS", "STORE_VOUCHER", "NEW_ARRIVALS", "BIRTHDAY_GIFT",
          "ANNIVERSARY_COUPON", "BACK_IN_STOCK", "POINTS_REMINDER", "WINBACK20", "WINBACK10", "HOLIDAY_PREVIEW"]
SEGMENTS = ["high_value", "cart_abandoned", "browsed_no_cart", "birthday_soon", "points_expiring"]

HEADER = """\
# A stress test of the compiler and the decision tables: {rows}-row stage and offer tables
# over the retail example's facts, comparisons against constants. Written by
# bench/stress_rules.py {rows}; do not edit by hand.

rules stress_{rows} version 1

let purchases      = events where kind == "purchase"
let orders         = count(purchases)
let spend_12m      = sum((purchases where at >= now - 365d).amount)
let lifetime_spend = sum(purchases.amount)
let visits         = events where kind == "visit"
let last_visit     = max(visits.at)
let carts          = events where kind == "cart_add"
let last_cart      = max(carts.at)
let behaviour      = events where kind in ["purchase", "visit", "cart_add", "email_open"]
let last_seen      = max(max(behaviour.at) ?? signup_at, signup_at)
let quiet          = now - last_seen

segment high_value when spend_12m >= 2000.0
segment cart_abandoned when now - last_cart <= 7d and not exists(purchases where at >= last_cart)
segment browsed_no_cart when now - last_visit <= 7d
                         and not exists(events where kind in ["cart_add", "purchase"] and at >= now - 7d)
segment birthday_soon when anniversary_within(birthday, 7d)
segment points_expiring when points_balance > 0 and points_expire_on >= today and points_expire_on - today <= 14d

cap email: 2 per 7d, 6 per 30d
cap any:   8 per 30d
"""


def stage_row(k):
    # A grid of recency bands by 12-month spend bands: every row a disjoint box, so that no row
    # shadows another and the checker has nothing to warn about.
    days, spend = k % 25 * 15, k // 25 * 100.0
    return "  tier_{k:04d} when quiet >= {d0}d and quiet < {d1}d and spend_12m >= {s0:.1f} and spend_12m < {s1:.1f}".format(
        k=k, d0=days, d1=days + 15, s0=spend, s1=spend + 100.0)


def offer_row(k):
    # Per segment, disjoint bands of lifetime spend; every third row also asks for points.
    segment = SEGMENTS[k % len(SEGMENTS)]
    band = k // len(SEGMENTS) * 50.0
    cond = "{seg} and lifetime_spend >= {s0:.1f} and lifetime_spend < {s1:.1f}".format(seg=segment, s0=band, s1=band + 50.0)
    if k % 3 == 0:
        cond += " and points_balance >= {}".format(10 * (k % 50))
    return "  {offer:<20} when {cond}".format(offer=OFFERS[k % len(OFFERS)], cond=cond)


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    out = [HEADER.format(rows=rows), "stage"]
    out += [stage_row(k) for k in range(rows - 2)]
    out += ["  never_bought   when orders == 0", "  lapsed         otherwise", "end", "",
            "channel", "  email when not (email_bounced ?? false)", "  push  when app_token is not null",
            "  none  otherwise", "end", "", "offer", "  none                 when channel == none"]
    out += [offer_row(k) for k in range(rows - 2)]
    out += ["  none                 otherwise", "end", ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
