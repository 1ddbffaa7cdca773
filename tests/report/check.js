// Checks the report as Chromium rendered it (its DOM, from --dump-dom) against the run:
//   node check.js DOM.html DECISIONS.csv SUMMARY.txt [--from-file]
// Every figure the report shows carries data-figure="KEY" data-value="N"; the expected values are
// counted here from the decisions file and parsed from `rekindle run`'s summary on stderr, and
// every one must match. Also checks that every chart is in the DOM as an SVG with a title.
'use strict';
const fs = require('fs');

const [domPath, decisionsPath, summaryPath, mode] = process.argv.slice(2);
const fromFile = mode === '--from-file';
const dom = fs.readFileSync(domPath, 'utf8');
const failures = [];
let checked = 0;

function unescape(s) {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

// The figures in the rendered DOM.
const shown = new Map();
for (const m of dom.matchAll(/data-figure="([^"]*)"\s+data-value="([^"]*)"/g)) shown.set(unescape(m[1]), unescape(m[2]));
if (shown.size < 50) failures.push(`only ${shown.size} figures in the DOM`);

function expect(key, value, source) {
  checked++;
  const got = shown.get(key);
  if (got === undefined) failures.push(`${key}: missing in the report (expected ${value}, from ${source})`);
  else if (String(got) !== String(value)) failures.push(`${key}: report shows ${got}, ${source} says ${value}`);
}

// Every chart, rendered: an <svg> with a <title>, and its section.
for (const id of ['stages', 'stage-channel', 'sends', 'offers', 'budgets', 'holdout', 'transitions', 'rfm', 'rejects', 'segments']) {
  const re = new RegExp(`<svg[^>]*aria-labelledby="chart-${id}-t[^>]*><title id="chart-${id}-t">[^<]+</title>`);
  if (id === 'rfm' && fromFile) continue;  // RFM scores are not in a decisions file
  if (!re.test(dom)) failures.push(`chart ${id} is not in the DOM`);
}
if (/<(script|img|iframe|link)\b/i.test(dom)) failures.push('the DOM has a script, image, frame or link element');

// ---- the decisions file
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
const [header, ...records] = parseCsv(fs.readFileSync(decisionsPath, 'utf8'));
const col = (name) => header.indexOf(name);
const count = new Map();
const inc = (k, n = 1) => count.set(k, (count.get(k) || 0) + n);
for (const r of records) {
  const v = (name) => r[col(name)];
  inc('customers');
  inc(`stage:${v('stage')}`);
  inc(`stage-channel:${v('stage')}:${v('channel')}`);
  inc(`offer:${v('offer')}`);
  if (v('holdout') === 'true') { inc('held-out'); inc(`stage-held-out:${v('stage')}`); inc(`offer-held-out:${v('offer')}`); }
  else if (v('send') === 'true') inc('sent');
  else if (v('suppressed_by') !== '') inc('suppressed-treated');
  else inc('no-message');
  if (v('suppressed_by') !== '') { inc('suppressed'); inc(`suppressed-by:${v('suppressed_by')}`); }
  if (v('transition') !== '') { inc(`transition:${v('transition')}`); inc('transitions'); }
  for (const s of v('segments').split(';')) if (s) inc(`segment:${s}`);
}
for (const [k, n] of count) expect(k, n, 'the decisions file');
expect('rules', records[0][col('rules')], 'the decisions file');
expect('rules-version', records[0][col('rules_version')], 'the decisions file');
const shownAsOf = (dom.match(/<time data-figure="as-of">([^<]*)<\/time>/) || [])[1];
checked++;
if (shownAsOf !== records[0][col('decided_at')]) failures.push(`as-of: report shows ${shownAsOf}, decided_at is ${records[0][col('decided_at')]}`);

// ---- the run's summary (stderr of `rekindle run`)
const summary = fs.readFileSync(summaryPath, 'utf8').split('\n');
const head = summary[0].match(/^rekindle: (\S+) v(\S+): (\d+) customers decided as of (\S+)$/);
if (!head) failures.push(`cannot read the summary's first line: ${summary[0]}`);
else {
  expect('customers', head[3], 'the summary');
  expect('tile-customers', head[3], 'the summary');
  expect('rules', head[1], 'the summary');
}
for (const line of summary) {
  const m = line.match(/^ {2}(customers|events|contacts)\s+read (\d+) = (?:decided|used) (\d+) \+ rejected (\d+)$/);
  if (m && !fromFile) {
    expect(`input:${m[1]}:read`, m[2], 'the summary');
    expect(`input:${m[1]}:used`, m[3], 'the summary');
    expect(`input:${m[1]}:rejected`, m[4], 'the summary');
    expect(`rejects:${m[1]}`, m[4], 'the summary');
  }
}
// The tables: a header line, rows, a blank line.
function table(title) {
  const start = summary.findIndex((l) => l.startsWith(`  ${title}`));
  if (start < 0) return null;
  const rows = [];
  for (let i = start + 1; i < summary.length && summary[i].trim() !== '' && !summary[i].startsWith('  sends:'); i++) rows.push(summary[i]);
  return { header: summary[start], rows };
}
const sc = table('stage \\ channel');
if (!sc) failures.push('no stage x channel table in the summary');
else {
  const channels = sc.header.trim().split(/\s+/).slice(3, -1).map((c) => (c === '(no row)' ? '' : c));
  for (const row of sc.rows) {
    const cells = row.trim().split(/\s+/);
    const stage = cells[0] === '(no stage)' ? '' : cells[0];
    channels.forEach((c, i) => expect(`stage-channel:${stage}:${c}`, cells[1 + i], 'the summary'));
    expect(`stage:${stage}`, cells[cells.length - 1], 'the summary');
  }
}
const offers = table('offer ');
for (const row of offers ? offers.rows : []) {
  let m = row.match(/^ {2}total offer cost\s+([\d.]+)$/);
  if (m) { expect('offer-cost-total', m[1], 'the summary'); expect('tile-cost', m[1], 'the summary'); continue; }
  m = row.match(/^ {2}(\S+)\s+(\d+)(?:\s+([\d.]+))?$/);
  if (!m) { failures.push(`cannot read the summary's offer line: ${row}`); continue; }
  const offer = m[1] === '(no row)' ? '' : m[1];
  expect(`offer:${offer}`, m[2], 'the summary');
  if (m[3] !== undefined) expect(`offer-cost:${offer}`, m[3], 'the summary');
}
for (const row of (table('segment ') || { rows: [] }).rows) {
  const m = row.match(/^ {2}(\S+)\s+(\d+)$/);
  if (m) expect(`segment:${m[1]}`, m[2], 'the summary');
}
for (const row of (table('budget ') || { rows: [] }).rows) {
  const m = row.match(/^ {2}(channel|offer) (\S+)\s+(\d+)\s+(\d+)\s+(\d+)$/);
  if (!m) { failures.push(`cannot read the summary's budget line: ${row}`); continue; }
  expect(`budget:${m[1]}:${m[2]}:limit`, m[3], 'the summary');
  expect(`budget:${m[1]}:${m[2]}:given`, m[4], 'the summary');
  if (!fromFile) expect(`budget:${m[1]}:${m[2]}:turned-away`, m[5], 'the summary');
}
for (const row of (table('suppressed by') || { rows: [] }).rows) {
  const m = row.match(/^ {2}(.+?)\s+(\d+)$/);
  if (m) expect(`suppressed-by:${m[1]}`, m[2], 'the summary');
}
for (const row of (table('transition ') || { rows: [] }).rows) {
  const m = row.match(/^ {2}(\S+)\s+(\d+)$/);
  if (m) expect(`transition:${m[1]}`, m[2], 'the summary');
}
const sends = summary.find((l) => l.startsWith('  sends:'));
const sm = sends && sends.match(/sends: (\d+) of (\d+)(?: \((\d+) suppressed by caps\))?(?:; holdout: (\d+) \(([\d.]+)%\))?/);
if (!sm) failures.push('no sends line in the summary');
else {
  expect('sent', sm[1], 'the summary');
  expect('tile-sent', sm[1], 'the summary');
  expect('suppressed', sm[3] || 0, 'the summary');
  expect('tile-suppressed', sm[3] || 0, 'the summary');
  expect('held-out', sm[4] || 0, 'the summary');
  expect('held-out-total', sm[4] || 0, 'the summary');
  expect('holdout-share', sm[5] || '0.0', 'the summary');
}

if (failures.length) {
  console.error(`report check: ${failures.length} of ${checked} checks failed:`);
  for (const f of failures.slice(0, 40)) console.error('  ' + f);
  process.exit(1);
}
console.log(`report check: ${checked} figures match the decisions file and the summary (${shown.size} figures in the report)`);
