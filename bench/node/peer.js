#!/usr/bin/env node
// The benchmark's json-rules-engine peer: examples/retail/retail.rules with
// bench/rekindle.yaml. The business rules (segments, the stage, channel and offer tables, first
// match wins) are json-rules-engine rules, evaluated per customer by the engine on facts that
// plain JavaScript computes from the export (counts, last times, sums, ages): a rules engine
// evaluates conditions, it does not aggregate event streams. The runtime's mechanisms are plain
// JavaScript too, as Rekindle's runtime does them: consent and contact details, frequency caps,
// quiet hours, the SMS and WINBACK20 budgets, the holdout bucket. It writes the same decisions
// file as `rekindle run`, byte for byte.
//
//   node bench/node/peer.js --customers customers.csv --events events.csv --out decisions.csv
//
// Hard-coded like the other peers: the clock (as_of), Asia/Shanghai as +08:00 (no daylight
// saving time since 1991), params, caps, budgets. CSV with a header; no line break inside a
// quoted field.
'use strict';

const fs = require('fs');
const { StringDecoder } = require('string_decoder');
const { Engine } = require('json-rules-engine');

const DAY = 86400;
const ZONE = 8 * 3600;
const NOW = 1795395600; // 2026-11-23T09:00:00+08:00
const TODAY = Math.floor((NOW + ZONE) / DAY);
const HOLDOUT_SALT = 'retail-2026q4';
const SMS_PER_RUN = 6;
const WINBACK20_BUDGET = 30;
const SEGMENTS = ['high_value', 'cart_abandoned', 'browsed_no_cart', 'birthday_soon', 'member_anniversary',
  'points_expiring', 'back_in_stock'];

// --- the business rules, as json-rules-engine rules ------------------------------------

const always = { all: [] };
const fact = (name, operator, value) => ({ fact: name, operator, value });

// Rules of one table: first match wins, so each row's event carries its position.
function tableRules(type, rows) {
  return rows.map(([name, conditions], order) => ({ conditions, event: { type, params: { name, order } } }));
}

const segmentRules = [
  ['high_value', { all: [fact('spend_12m', 'greaterThanInclusive', 2000.0)] }],
  ['cart_abandoned', { all: [fact('cart_age', 'lessThanInclusive', 7 * DAY), fact('ordered_since_cart', 'equal', false)] }],
  ['browsed_no_cart', { all: [fact('visit_age', 'lessThanInclusive', 7 * DAY), fact('cart_or_order_in_window', 'equal', false)] }],
  ['birthday_soon', { all: [fact('birthday_in_days', 'lessThanInclusive', 7)] }],
  ['member_anniversary', { all: [fact('signup_anniversary_in_days', 'lessThanInclusive', 7),
    fact('member_for', 'greaterThanInclusive', 365 * DAY)] }],
  ['points_expiring', { all: [fact('points_balance', 'greaterThan', 0), fact('points_days_left', 'greaterThanInclusive', 0),
    fact('points_days_left', 'lessThanInclusive', 14)] }],
  ['back_in_stock', { all: [fact('restock_of_browsed', 'equal', true)] }],
].map(([name, conditions]) => ({ conditions, event: { type: 'segment', params: { name } } }));

const stageRules = tableRules('stage', [
  ['dormant', { all: [fact('quiet', 'greaterThanInclusive', 365 * DAY)] }],
  ['new', { all: [fact('orders', 'equal', 0)] }],
  ['first_purchase', { all: [fact('orders', 'equal', 1), fact('idle', 'lessThan', 90 * DAY)] }],
  ['active', { all: [fact('orders', 'greaterThanInclusive', 2), fact('idle', 'lessThan', 90 * DAY)] }],
  ['at_risk', always],
]);

const channelRules = tableRules('channel', [
  ['email', { any: [fact('email_bounced', 'equal', false), fact('email_bounced', 'equal', null)] }],
  ['push', { all: [fact('app_token', 'notEqual', null)] }],
  ['sms', { all: [fact('stage', 'in', ['at_risk', 'dormant'])] }],
  ['none', always],
]);

const interested = { any: [fact('cart_abandoned', 'equal', true), fact('browsed_no_cart', 'equal', true)] };
const offerRules = tableRules('offer', [
  ['none', { all: [fact('channel', 'equal', 'none')] }],
  ['none', { all: [fact('account_type', 'equal', 'b2b')] }],
  ['BIRTHDAY_GIFT', { all: [fact('birthday_soon', 'equal', true), fact('stage', 'notEqual', 'new')] }],
  ['FIRST_ORDER_DISCOUNT', { all: [fact('stage', 'equal', 'first_purchase'), interested, fact('price_sensitivity', 'equal', 'price')] }],
  ['STORE_VOUCHER', { all: [fact('stage', 'equal', 'first_purchase'), interested, fact('price_sensitivity', 'equal', 'experience')] }],
  ['BESTSELLERS', { all: [fact('stage', 'equal', 'first_purchase'), interested] }],
  ['WELCOME10', { all: [fact('stage', 'equal', 'new')] }],
  ['BACK_IN_STOCK', { all: [fact('stage', 'equal', 'active'), fact('back_in_stock', 'equal', true)] }],
  ['NEW_ARRIVALS', { all: [fact('stage', 'equal', 'active')] }],
  ['POINTS_REMINDER', { all: [fact('stage', 'equal', 'at_risk'), fact('points_expiring', 'equal', true)] }],
  ['ANNIVERSARY_COUPON', { all: [fact('stage', 'equal', 'at_risk'), fact('member_anniversary', 'equal', true)] }],
  ['WINBACK20', { all: [fact('stage', 'equal', 'at_risk')] }],
  ['WINBACK10', { all: [fact('stage', 'equal', 'at_risk')] }],
  ['HOLIDAY_PREVIEW', { all: [fact('stage', 'equal', 'dormant')] }],
  ['none', always],
]);

function engineOf(rules) {
  // A fact a rule names but a customer lacks reads as null (undefined facts are not errors).
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const r of rules) engine.addRule(r);
  return engine;
}
const profileEngine = engineOf([...segmentRules, ...stageRules]);
const channelEngine = engineOf(channelRules);
const offerEngine = engineOf(offerRules);

// Every row of a table whose conditions hold, in table order.
function matchedRows(events, type) {
  return events.filter((e) => e.type === type).map((e) => e.params).sort((a, b) => a.order - b.order);
}

// --- time ----------------------------------------------------------------------------

// Epoch seconds, a date (local midnight), or ISO 8601 with 'T' or ' ', an offset, 'Z' or none
// (local time). No fractions.
function parseTime(s) {
  if (s.indexOf('-') < 0) return Number(s);
  const y = +s.slice(0, 4), mo = +s.slice(5, 7), d = +s.slice(8, 10);
  if (s.length === 10) return Date.UTC(y, mo - 1, d) / 1000 - ZONE;
  const local = Date.UTC(y, mo - 1, d, +s.slice(11, 13), +s.slice(14, 16), +s.slice(17, 19)) / 1000;
  if (s.length === 19) return local - ZONE;
  if (s[19] === 'Z') return local;
  const offset = (+s.slice(20, 22) * 3600 + +s.slice(23, 25) * 60) * (s[19] === '-' ? -1 : 1);
  return local - offset;
}

function parseDateDays(s) {
  return Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / 1000 / DAY;
}

function formatTime(t) {
  return new Date((t + ZONE) * 1000).toISOString().slice(0, 19) + '+08:00';
}

// Days until the next anniversary of a date (days since 1970-01-01), today included; 29
// February counts as 28 February in common years.
function daysToAnniversary(days) {
  const d = new Date(days * DAY * 1000);
  const m = d.getUTCMonth(), day = d.getUTCDate();
  const year = new Date(TODAY * DAY * 1000).getUTCFullYear();
  for (const y of [year, year + 1]) {
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const dd = m === 1 && day === 29 && !leap ? 28 : day;
    const next = Date.UTC(y, m, dd) / 1000 / DAY;
    if (next >= TODAY) return next - TODAY;
  }
  return null;
}

// --- bucket (docs/reference.md, "Holdout and buckets") ---------------------------------

const saltPrefix = new Map();
function bucket(id, salt) {
  // FNV-1a-64 in two 32-bit halves: h * (2^40 + 435) mod 2^64, every product exact in a double.
  const step = (hi, lo, byte) => {
    const x = (lo ^ byte) >>> 0;
    const p = x * 435;
    const plo = p % 4294967296;
    return [(hi * 435 + (p - plo) / 4294967296 + (x * 256) % 4294967296) % 4294967296, plo];
  };
  let state = saltPrefix.get(salt);
  if (!state) {
    state = [0xcbf29ce4, 0x84222325];
    for (const b of [...Buffer.from(salt, 'utf8'), 0]) state = step(state[0], state[1], b);
    saltPrefix.set(salt, state);
  }
  let [hi, lo] = state;
  for (const b of Buffer.from(id, 'utf8')) [hi, lo] = step(hi, lo, b);
  let z = (BigInt(hi) << 32n) | BigInt(lo);
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  z ^= z >> 31n;
  return Number(z >> 11n) / 9007199254740992;
}

// --- input -----------------------------------------------------------------------------

function splitCsv(line) {
  if (line.indexOf('"') < 0) return line.split(',');
  const out = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      ++i;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) { v += line.slice(i); i = line.length; break; }
        v += line.slice(i, q);
        if (line[q + 1] === '"') { v += '"'; i = q + 2; } else { i = q + 1; break; }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      out.push(c < 0 ? line.slice(i) : line.slice(i, c));
      i = c < 0 ? line.length : c;
    }
    if (line[i] === ',') { ++i; continue; }
    return out;
  }
}

// Calls onRow(fields) for every data row, and onHeader(names) first.
async function readCsv(path, onHeader, onRow) {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let header = true;
  for await (const chunk of fs.createReadStream(path, { highWaterMark: 1 << 22 })) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop();
    for (let line of lines) {
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (header) { onHeader(splitCsv(line)); header = false; } else if (line.length) onRow(splitCsv(line));
    }
  }
  rest += decoder.end();
  if (rest.length) onRow(splitCsv(rest.endsWith('\r') ? rest.slice(0, -1) : rest));
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 't']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'f']);
function bool(s) {
  const v = s.trim().toLowerCase();
  return TRUE_WORDS.has(v) ? true : FALSE_WORDS.has(v) ? false : null;
}

// --- caps ------------------------------------------------------------------------------

const DAY_START = Math.floor((NOW + ZONE) / DAY) * DAY - ZONE;
const WEEK_START = (Math.floor((NOW + ZONE) / DAY) - ((Math.floor((NOW + ZONE) / DAY) + 3) % 7)) * DAY - ZONE;
const CAPS = {
  emailDormant: [{ count: 1, start: WEEK_START, next: WEEK_START + 7 * DAY, text: 'cap email 1 per calendar week' }],
  email: [{ count: 2, seconds: 7 * DAY, text: 'cap email 2 per 7d' }, { count: 6, seconds: 30 * DAY, text: 'cap email 6 per 30d' }],
  push: [{ count: 1, start: DAY_START, next: DAY_START + DAY, text: 'cap push 1 per calendar day' },
    { count: 2, start: WEEK_START, next: WEEK_START + 7 * DAY, text: 'cap push 2 per calendar week' }],
  sms: [{ count: 1, seconds: 14 * DAY, text: 'cap sms 1 per 14d' }],
  any: [{ count: 8, seconds: 30 * DAY, text: 'cap any 8 per 30d' }],
};

// contacts: times up to now, newest first. Returns [suppressed_by, next_eligible_at] or null.
function checkCaps(windowsByLine, contactsOf) {
  let by = null, at = 0;
  for (const [windows, contacts] of windowsByLine) {
    for (const w of windows) {
      let eligible;
      if (w.seconds) {
        let n = 0;
        while (n < contacts.length && contacts[n] > NOW - w.seconds) ++n;
        if (n < w.count) continue;
        eligible = contacts[w.count - 1] + w.seconds; // the count-th newest leaves the window
      } else {
        let n = 0;
        while (n < contacts.length && contacts[n] >= w.start) ++n;
        if (n < w.count) continue;
        eligible = w.next;
      }
      if (by === null || eligible > at) { by = w.text; at = eligible; }
    }
  }
  return by === null ? null : [by, at];
}

// --- the run ---------------------------------------------------------------------------

async function main() {
  const args = {};
  for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  if (!args.customers || !args.events || !args.out) {
    console.error('usage: node peer.js --customers F --events F --out F');
    process.exit(2);
  }

  const customers = [];
  const index = new Map();
  let col;
  await readCsv(args.customers, (h) => { col = Object.fromEntries(h.map((n, i) => [n, i])); }, (f) => {
    const id = f[col.customer_id];
    if (index.has(id)) return;
    index.set(id, customers.length);
    const birthday = f[col.birthday], expire = f[col.points_expire_on], points = f[col.points_balance];
    customers.push({
      id,
      signup: parseTime(f[col.signup_at]),
      email: f[col.email].trim() !== '',
      phone: f[col.phone].trim() !== '',
      app: f[col.app_token].trim() !== '',
      birthday: birthday ? parseDateDays(birthday) : null,
      accountType: f[col.account_type],
      consentEmail: bool(f[col.consent_email]) === true,
      consentSms: bool(f[col.consent_sms]) === true,
      consentPush: bool(f[col.consent_push]) === true,
      bounced: bool(f[col.email_bounced]),
      sensitivity: f[col.price_sensitivity] || null,
      points: points ? Number(points) : null,
      expire: expire ? parseDateDays(expire) : null,
    });
  });
  const n = customers.length;

  // One pass over the events: per-customer aggregates in typed arrays; the contacts of the last
  // 30 days (no cap looks further back); recent visits and restocks for back_in_stock.
  const orders = new Int32Array(n);
  const lastOrder = new Float64Array(n).fill(-Infinity);
  const lastVisit = new Float64Array(n).fill(-Infinity);
  const lastCart = new Float64Array(n).fill(-Infinity);
  const lastBehaviour = new Float64Array(n).fill(-Infinity);
  const lifetime = new Float64Array(n);
  const spend12m = new Float64Array(n);
  const contacts = []; // [customer, time, channel]
  const browsed = new Map(); // customer -> Set of products viewed in the last 30 days
  const restocks = []; // [customer, product] restocked in the last 3 days
  await readCsv(args.events, (h) => { col = Object.fromEntries(h.map((name, i) => [name, i])); }, (f) => {
    const c = index.get(f[col.customer_id]);
    if (c === undefined) return; // a customer not in the customer file: rejected
    const t = parseTime(f[col.at]);
    switch (f[col.kind]) {
      case 'purchase': {
        ++orders[c];
        if (t > lastOrder[c]) lastOrder[c] = t;
        if (t > lastBehaviour[c]) lastBehaviour[c] = t;
        const a = f[col.amount];
        if (a !== '') {
          lifetime[c] += Number(a);
          if (t >= NOW - 365 * DAY) spend12m[c] += Number(a);
        }
        break;
      }
      case 'visit': {
        if (t > lastVisit[c]) lastVisit[c] = t;
        if (t > lastBehaviour[c]) lastBehaviour[c] = t;
        const p = f[col.product];
        if (t >= NOW - 30 * DAY && p !== '') {
          let s = browsed.get(c);
          if (!s) browsed.set(c, (s = new Set()));
          s.add(p);
        }
        break;
      }
      case 'cart_add':
        if (t > lastCart[c]) lastCart[c] = t;
        if (t > lastBehaviour[c]) lastBehaviour[c] = t;
        break;
      case 'email_open':
        if (t > lastBehaviour[c]) lastBehaviour[c] = t;
        break;
      case 'email_sent': case 'sms_sent': case 'push_sent': case 'wechat_sent':
        if (t <= NOW && t > NOW - 30 * DAY) contacts.push([c, t, f[col.channel]]);
        break;
      case 'back_in_stock':
        if (t >= NOW - 3 * DAY && f[col.product] !== '') restocks.push([c, f[col.product]]);
        break;
      default:
    }
  });
  const restockSeen = new Uint8Array(n);
  for (const [c, p] of restocks) if (browsed.has(c) && browsed.get(c).has(p)) restockSeen[c] = 1;
  const contactsOf = Array.from({ length: n }, () => null);
  for (const [c, t, ch] of contacts) (contactsOf[c] || (contactsOf[c] = [])).push([t, ch]);
  for (const list of contactsOf) if (list) list.sort((a, b) => b[0] - a[0]);
  const timesOn = (c, channel) => (contactsOf[c] || []).filter((x) => channel === null || x[1] === channel).map((x) => x[0]);
  const capsOf = (c, channel, stage) => {
    if (channel === 'none') return null;
    const own = channel === 'email' ? (stage === 'dormant' ? CAPS.emailDormant : CAPS.email) : CAPS[channel];
    return checkCaps([[own, timesOn(c, channel)], [CAPS.any, timesOn(c, null)]]);
  };

  // The profile (segments, stage) and the channel rows, by the engine, one customer at a time
  // (awaiting each run is faster than many runs in flight: json-rules-engine is promise-based).
  const stage = new Array(n), segments = new Array(n), channelRows = new Array(n), facts = new Array(n);
  for (let c = 0; c < n; ++c) {
    const cu = customers[c];
    const lastSeen = Math.max(lastBehaviour[c] === -Infinity ? cu.signup : lastBehaviour[c], cu.signup);
    const cartOrOrder = Math.max(lastCart[c], lastOrder[c]);
    const f = {
      spend_12m: spend12m[c],
      cart_age: lastCart[c] === -Infinity ? null : NOW - lastCart[c],
      ordered_since_cart: lastOrder[c] !== -Infinity && lastOrder[c] >= lastCart[c],
      visit_age: lastVisit[c] === -Infinity ? null : NOW - lastVisit[c],
      cart_or_order_in_window: cartOrOrder !== -Infinity && cartOrOrder >= NOW - 7 * DAY,
      birthday_in_days: cu.birthday === null ? null : daysToAnniversary(cu.birthday),
      signup_anniversary_in_days: daysToAnniversary(Math.floor((cu.signup + ZONE) / DAY)),
      member_for: NOW - cu.signup,
      points_balance: cu.points,
      points_days_left: cu.expire === null ? null : cu.expire - TODAY,
      restock_of_browsed: restockSeen[c] === 1,
      quiet: NOW - lastSeen,
      orders: orders[c],
      idle: orders[c] ? NOW - lastOrder[c] : null,
      email_bounced: cu.bounced,
      app_token: cu.app ? true : null,
      account_type: cu.accountType,
      price_sensitivity: cu.sensitivity,
    };
    facts[c] = f;
    const { events } = await profileEngine.run(f);
    const segs = new Set(events.filter((e) => e.type === 'segment').map((e) => e.params.name));
    segments[c] = segs;
    stage[c] = matchedRows(events, 'stage')[0].name;
    f.stage = stage[c];
    for (const s of SEGMENTS) f[s] = segs.has(s);
    const ch = await channelEngine.run(f);
    // Consent and the contact detail, as Rekindle's runtime enforces them.
    channelRows[c] = matchedRows(ch.events, 'channel').map((r) => r.name).filter((name) =>
      name === 'none' || (name === 'email' && cu.consentEmail && cu.email) ||
      (name === 'push' && cu.consentPush && cu.app) || (name === 'sms' && cu.consentSms && cu.phone));
  }

  const holdout = customers.map((cu) => bucket(cu.id, HOLDOUT_SALT) < 0.10);

  // Channel: the SMS budget among those the SMS caps let through and not held out.
  const channel = new Array(n), capped = new Array(n);
  const smsContenders = [];
  for (let c = 0; c < n; ++c) {
    channel[c] = channelRows[c][0];
    capped[c] = capsOf(c, channel[c], stage[c]);
    if (channel[c] === 'sms' && !holdout[c] && !capped[c]) smsContenders.push(c);
  }
  const allocate = (contenders, value, outcome, limit) => contenders
    .map((c) => ({ c, v: value[c], b: bucket(customers[c].id, outcome), id: customers[c].id }))
    .sort((x, y) => (y.v - x.v) || (x.b - y.b) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    .slice(limit).map((x) => x.c);
  for (const c of allocate(smsContenders, lifetime, 'sms', SMS_PER_RUN)) {
    channel[c] = channelRows[c][channelRows[c].indexOf('sms') + 1]; // the next row: none
    capped[c] = capsOf(c, channel[c], stage[c]);
  }

  // Offer, by the engine; then the WINBACK20 budget among those a message reaches.
  const offer = new Array(n);
  for (let c = 0; c < n; ++c) {
    facts[c].channel = channel[c];
    const { events } = await offerEngine.run(facts[c]);
    offer[c] = matchedRows(events, 'offer').map((r) => r.name);
  }
  const wbContenders = [];
  for (let c = 0; c < n; ++c) if (offer[c][0] === 'WINBACK20' && !holdout[c] && !capped[c]) wbContenders.push(c);
  for (const c of allocate(wbContenders, spend12m, 'WINBACK20', WINBACK20_BUDGET)) offer[c] = offer[c].slice(1);

  // The decisions file.
  const decidedAt = formatTime(NOW);
  const sendAt = (ch) => {
    const local = NOW + ZONE, day = Math.floor(local / DAY), minute = Math.floor((local - day * DAY) / 60);
    const quiet = { push: [22 * 60, 9 * 60], sms: [21 * 60, 8 * 60] }[ch];
    if (!quiet || !(minute >= quiet[0] || minute < quiet[1])) return NOW;
    return (minute >= quiet[0] ? day + 1 : day) * DAY + quiet[1] * 60 - ZONE;
  };
  const out = fs.openSync(args.out, 'w');
  let text = 'customer_id,stage,segments,channel,send,send_at,suppressed_by,next_eligible_at,offer,holdout,transition,rules,rules_version,decided_at\n';
  for (let c = 0; c < n; ++c) {
    const send = channel[c] !== 'none' && !capped[c] && !holdout[c];
    const id = /[",]/.test(customers[c].id) ? '"' + customers[c].id.replace(/"/g, '""') + '"' : customers[c].id;
    text += `${id},${stage[c]},${SEGMENTS.filter((s) => segments[c].has(s)).join(';')},${channel[c]},${send},` +
      `${send ? formatTime(sendAt(channel[c])) : ''},${capped[c] ? capped[c][0] : ''},${capped[c] ? formatTime(capped[c][1]) : ''},` +
      `${offer[c][0]},${holdout[c]},,retail_lifecycle,2,${decidedAt}\n`;
    if (text.length > 1 << 20) { fs.writeSync(out, text); text = ''; }
  }
  fs.writeSync(out, text);
  fs.closeSync(out);
}

main().catch((e) => { console.error(e); process.exit(1); });
