// The TextMate grammar (syntaxes/rekindle.tmLanguage.json), run by the engine VS Code uses:
// vscode-textmate with the Oniguruma regex library compiled to WebAssembly (vscode-oniguruma).
//
// 1. Focused snippets: exact scopes for keywords, names, literals, strings and escapes, comments,
//    operators, built-in calls, module members and decision tables.
// 2. Every rules file in the repository (examples/*/*.rules, tests/conformance/*.rules,
//    stdlib/std/*.rules), checked token by token against a small reference lexer that follows
//    grammar/Rekindle.g4 (keywords are read from it): every comment is a comment, every string a
//    string, every literal its kind of number, every keyword a keyword, no character is left
//    unscoped or marked invalid, and the grammar's tables are exactly the files' tables.
//
// Run: node test/grammar.test.js (or sh test/run.sh, which installs the packages first).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const EXT_DIR = path.resolve(__dirname, '..');
const REPO = path.resolve(EXT_DIR, '..', '..');
const GRAMMAR_FILE = path.join(EXT_DIR, 'syntaxes', 'rekindle.tmLanguage.json');

// ---- the language -------------------------------------------------------------------------

const GRAMMAR_JSON = JSON.parse(fs.readFileSync(GRAMMAR_FILE, 'utf8'));

// The keywords, from the lexer itself: `RULES: 'rules';` ...
const G4 = fs.readFileSync(path.join(REPO, 'grammar', 'Rekindle.g4'), 'utf8');
const KEYWORDS = [...G4.matchAll(/^[A-Z_]+\s*:\s*'([a-z]+)'\s*;/gm)].map((m) => m[1]);

// The built-in functions. The stdlib's table (stdlib/src/builtins.cpp) is the authority; the
// grammar's list must match it (checked below).
const BUILTINS = [
  'count', 'exists', 'sum', 'avg', 'min', 'max', 'first', 'last', 'distinct_count', 'mode', 'streak',
  'days_since', 'days_until', 'hours_since', 'date', 'year', 'month', 'day', 'weekday',
  'anniversary_within', 'age_years', 'holiday', 'lower', 'upper', 'len', 'contains', 'starts_with',
  'ends_with', 'email_domain', 'abs', 'round', 'floor', 'ceil', 'clamp', 'log', 'exp', 'bucket',
  'quantile_rank',
];
const MODULES = ['rfm', 'clv', 'lifecycle'];

const KEYWORD_SCOPE = {};
const kwGroup = (scope, words) => words.forEach((w) => { KEYWORD_SCOPE[w] = scope; });
kwGroup('keyword.declaration.rekindle', ['rules', 'version', 'use', 'as', 'param', 'let', 'segment', 'cap', 'holdout', 'salt']);
kwGroup('variable.language.decision.rekindle', ['stage', 'channel', 'offer']); // in expressions; they start tables too
kwGroup('keyword.control.table.rekindle', ['end']);
kwGroup('keyword.control.conditional.rekindle', ['when', 'otherwise']);
kwGroup('keyword.other.clause.rekindle', ['limit', 'rank', 'by', 'asc', 'desc', 'per', 'calendar']);
kwGroup('keyword.operator.logical.rekindle', ['and', 'or', 'not']);
kwGroup('keyword.operator.expression.rekindle', ['in', 'is', 'where']);
kwGroup('constant.language.boolean.rekindle', ['true', 'false']);
for (const w of ['null', 'none', 'now', 'today', 'previous']) KEYWORD_SCOPE[w] = `constant.language.${w}.rekindle`;

const OPERATOR_SCOPE = {
  '??': 'keyword.operator.null-coalescing.rekindle',
  '==': 'keyword.operator.comparison.rekindle', '!=': 'keyword.operator.comparison.rekindle',
  '<=': 'keyword.operator.comparison.rekindle', '>=': 'keyword.operator.comparison.rekindle',
  '<': 'keyword.operator.comparison.rekindle', '>': 'keyword.operator.comparison.rekindle',
  '+': 'keyword.operator.arithmetic.rekindle', '-': 'keyword.operator.arithmetic.rekindle',
  '*': 'keyword.operator.arithmetic.rekindle', '/': 'keyword.operator.arithmetic.rekindle',
  '%': 'keyword.operator.arithmetic.rekindle',
  '(': 'punctuation.section.parens.begin.rekindle', ')': 'punctuation.section.parens.end.rekindle',
  '[': 'punctuation.section.brackets.begin.rekindle', ']': 'punctuation.section.brackets.end.rekindle',
  ',': 'punctuation.separator.comma.rekindle', '.': 'punctuation.accessor.rekindle',
  ':': 'punctuation.separator.colon.rekindle', '=': 'keyword.operator.assignment.rekindle',
};

const LITERAL_SCOPE = {
  TIME: 'constant.numeric.time.rekindle',
  DATE: 'constant.numeric.date.rekindle',
  DURATION: 'constant.numeric.duration.rekindle',
  PERCENT: 'constant.numeric.percentage.rekindle',
  FLOAT: 'constant.numeric.float.rekindle',
  INT: 'constant.numeric.integer.rekindle',
};

// ---- the engine ---------------------------------------------------------------------------

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === 'source.rekindle'
        ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_FILE, 'utf8'), GRAMMAR_FILE)
        : null,
  });
  const grammar = await registry.loadGrammar('source.rekindle');
  assert.ok(grammar, 'the grammar loads');
  return grammar;
}

const grammarReady = loadGrammar();

// Lines of { text, tokens: [{ start, end, text, scopes }] }, as VS Code sees them.
async function tokenize(source) {
  const grammar = await grammarReady;
  let state = vsctm.INITIAL;
  return source.split(/\r\n|\r|\n/).map((text) => {
    const r = grammar.tokenizeLine(text, state);
    state = r.ruleStack;
    const tokens = r.tokens
      .map((t) => ({ start: t.startIndex, end: Math.min(t.endIndex, text.length), scopes: t.scopes }))
      .filter((t) => t.end > t.start)
      .map((t) => ({ ...t, text: text.slice(t.start, t.end) }));
    return { text, tokens };
  });
}

// `scope` is `prefix` or a more specific scope below it (keyword.declaration covers
// keyword.declaration.rekindle).
const hasScope = (token, prefix) => token.scopes.some((s) => s === prefix || s.startsWith(prefix + '.'));
const show = (tokens) => tokens.map((t) => `${JSON.stringify(t.text)} [${t.scopes.join(' ')}]`).join(', ');

// Checks [needle, scope, nth] on a snippet: the needle (its nth occurrence, 1 by default) is
// exactly covered by tokens that all carry the scope; `!scope` means none of them does. In a
// needle with «», only the marked part is checked: `rfm.«r» >=`.
async function expectScopes(source, checks) {
  const lines = await tokenize(source);
  const failures = [];
  for (const [needle, scope, nth = 1] of checks) {
    const marked = /^(.*)«(.*)»(.*)$/.exec(needle);
    const whole = marked ? marked[1] + marked[2] + marked[3] : needle;
    const from = marked ? marked[1].length : 0;
    const len = marked ? marked[2].length : needle.length;
    let seen = 0;
    let at = null;
    for (let ln = 0; ln < lines.length && !at; ln++) {
      for (let i = lines[ln].text.indexOf(whole); i >= 0; i = lines[ln].text.indexOf(whole, i + 1)) {
        if (++seen === nth) {
          at = { ln, start: i + from, end: i + from + len };
          break;
        }
      }
    }
    if (!at) {
      failures.push(`${JSON.stringify(needle)} (#${nth}) is not in the snippet`);
      continue;
    }
    const toks = lines[at.ln].tokens.filter((t) => t.end > at.start && t.start < at.end);
    const negate = scope.startsWith('!');
    const want = negate ? scope.slice(1) : scope;
    const aligned = toks.length > 0 && toks[0].start === at.start && toks[toks.length - 1].end === at.end;
    const ok = negate ? !toks.some((t) => hasScope(t, want)) : aligned && toks.every((t) => hasScope(t, want));
    if (!ok) {
      failures.push(`${JSON.stringify(needle)} (#${nth}, line ${at.ln + 1}): expected ${negate ? 'no ' : ''}${want}` +
        `${!negate && !aligned ? ' as whole tokens' : ''}, got ${show(toks)}`);
    }
  }
  assert.deepEqual(failures, [], `in snippet:\n${source}\n\n${failures.join('\n')}`);
}

// ---- focused snippets ---------------------------------------------------------------------

test('let, now and a comment', () =>
  expectScopes('let idle = now - last_order  # comment', [
    ['let', 'keyword.declaration.rekindle'],
    ['idle', 'entity.name.variable.let.rekindle'],
    ['=', 'keyword.operator.assignment.rekindle'],
    ['now', 'constant.language.now.rekindle'],
    ['-', 'keyword.operator.arithmetic.rekindle'],
    ['last_order', 'variable.other.rekindle'],
    ['# comment', 'comment.line.number-sign.rekindle'],
    ['#', 'punctuation.definition.comment.rekindle'],
    ['last_order', '!comment'],
  ]));

test('header, use, param, segment: keywords and declared names', () =>
  expectScopes(
    [
      'rules retail_lifecycle version 3',
      'use std.rfm',
      'use std.lifecycle as lc',
      'param dormant_after = 365d',
      'param tiers = ["gold", "platinum"]',
      'segment high_value when spend_12m >= 2000',
      'holdout 10% salt "b2b-2026q4"',
    ].join('\n'),
    [
      ['rules', 'keyword.declaration.rekindle'],
      ['retail_lifecycle', 'entity.name.namespace.rekindle'],
      ['version', 'keyword.declaration.rekindle'],
      ['3', 'constant.numeric.integer.rekindle'],
      ['use', 'keyword.declaration.rekindle'],
      ['std', 'entity.name.namespace.rekindle'],
      ['.', 'punctuation.accessor.rekindle'],
      ['rfm', 'entity.name.namespace.rekindle'],
      ['std.«lifecycle» as', 'entity.name.namespace.rekindle'],
      ['as', 'keyword.declaration.rekindle'],
      ['lc', 'entity.name.namespace.rekindle'],
      ['param', 'keyword.declaration.rekindle'],
      ['dormant_after', 'entity.name.variable.param.rekindle'],
      ['365d', 'constant.numeric.duration.rekindle'],
      ['tiers', 'entity.name.variable.param.rekindle'],
      ['[', 'punctuation.section.brackets.begin.rekindle'],
      ['"gold"', 'string.quoted.double.rekindle'],
      [',', 'punctuation.separator.comma.rekindle'],
      [']', 'punctuation.section.brackets.end.rekindle'],
      ['segment', 'keyword.declaration.rekindle'],
      ['high_value', 'entity.name.variable.segment.rekindle'],
      ['when', 'keyword.control.conditional.rekindle'],
      ['spend_12m', 'variable.other.rekindle'],
      ['>=', 'keyword.operator.comparison.rekindle'],
      ['2000', 'constant.numeric.integer.rekindle'],
      ['holdout', 'keyword.declaration.rekindle'],
      ['10%', 'constant.numeric.percentage.rekindle'],
      ['%', 'keyword.other.unit.percentage.rekindle'],
      ['salt', 'keyword.declaration.rekindle'],
      ['"b2b-2026q4"', 'string.quoted.double.rekindle'],
      ['2026', '!constant.numeric'],
    ]
  ));

test('strings: escapes, invalid escapes, # inside, Unicode, unterminated', () =>
  expectScopes(
    [
      'segment s when x == "say \\"hi\\" a\\\\b\\nc\\td" and y != "bad\\q"',
      'let u = "沉睡客户"  # Unicode',
      'let h = "#1 # not a comment"',
      'let e = ""',
      'let open = "no closing quote',
      'let next = 1',
    ].join('\n'),
    [
      ['"say \\"hi\\" a\\\\b\\nc\\td"', 'string.quoted.double.rekindle'],
      ['«"»say', 'punctuation.definition.string.begin.rekindle'],
      ['d«"»', 'punctuation.definition.string.end.rekindle'],
      ['\\"', 'constant.character.escape.rekindle'],
      ['\\"', 'constant.character.escape.rekindle', 2],
      ['\\\\', 'constant.character.escape.rekindle'],
      ['\\n', 'constant.character.escape.rekindle'],
      ['\\t', 'constant.character.escape.rekindle'],
      ['d"', 'string.quoted.double.rekindle'],
      ['\\q', 'invalid.illegal.escape.rekindle'],
      ['\\q', 'string.quoted.double.rekindle'],
      ['bad', '!invalid'],
      ['and', 'keyword.operator.logical.rekindle'],
      ['"沉睡客户"', 'string.quoted.double.rekindle'],
      ['# Unicode', 'comment.line.number-sign.rekindle'],
      ['"#1 # not a comment"', 'string.quoted.double.rekindle'],
      ['"#1 # not a comment"', '!comment'],
      ['""', 'string.quoted.double.rekindle'],
      ['"no closing quote', 'string.quoted.double.rekindle'],
      ['no closing quote', 'invalid.illegal.unterminated-string.rekindle'],
      ['let next', '!string'],
      ['next', 'entity.name.variable.let.rekindle'],
    ]
  ));

test('numbers, durations, dates, times, percentages', () =>
  expectScopes(
    [
      'let a = [42, 3.5, 1.5e3, 10%, 12.5%, 0%]',
      'let b = [90d, 12h, 30m, 45s, 2w]',
      'let c = 2026-11-23 + 1d',
      'let d = [2026-11-23T08:00:00+08:00, 2026-11-23T01:00:00Z, 2026-11-23T08:00, 2026-11-22T20:00:00-05:00, 2026-11-23T01:00:00.250Z]',
      'let e = 10%3 + a % b - -1',
    ].join('\n'),
    [
      ['42', 'constant.numeric.integer.rekindle'],
      ['3.5', 'constant.numeric.float.rekindle'],
      ['1.5e3', 'constant.numeric.float.rekindle'],
      ['10%', 'constant.numeric.percentage.rekindle'],
      ['12.5%', 'constant.numeric.percentage.rekindle'],
      [', «0%»]', 'constant.numeric.percentage.rekindle'],
      ['90d', 'constant.numeric.duration.rekindle'],
      ['90«d»', 'keyword.other.unit.duration.rekindle'],
      ['«90»d', '!keyword.other.unit'],
      ['12h', 'constant.numeric.duration.rekindle'],
      ['30m', 'constant.numeric.duration.rekindle'],
      ['45s', 'constant.numeric.duration.rekindle'],
      ['2w', 'constant.numeric.duration.rekindle'],
      ['2026-11-23', 'constant.numeric.date.rekindle'],
      ['1d', 'constant.numeric.duration.rekindle'],
      ['2026-11-23T08:00:00+08:00', 'constant.numeric.time.rekindle'],
      ['2026-11-23T01:00:00Z', 'constant.numeric.time.rekindle'],
      ['2026-11-23T08:00', 'constant.numeric.time.rekindle', 2],
      ['2026-11-22T20:00:00-05:00', 'constant.numeric.time.rekindle'],
      ['2026-11-23T01:00:00.250Z', 'constant.numeric.time.rekindle'],
      // The longest token wins: 10%3 is the percentage 10% and the integer 3.
      ['10%', 'constant.numeric.percentage.rekindle', 2],
      ['10%«3»', 'constant.numeric.integer.rekindle'],
      ['a «%» b', 'keyword.operator.arithmetic.rekindle'],
      ['- «-»1', 'keyword.operator.arithmetic.rekindle'],
      ['- -«1»', 'constant.numeric.integer.rekindle'],
    ]
  ));

test('operators and punctuation', () =>
  expectScopes('let x = (a == b) != (c <= d) and e >= f or g < h and i > j ?? k + l - m * n / o % p', [
    ['=', 'keyword.operator.assignment.rekindle'],
    ['(', 'punctuation.section.parens.begin.rekindle'],
    ['==', 'keyword.operator.comparison.rekindle'],
    [')', 'punctuation.section.parens.end.rekindle'],
    ['!=', 'keyword.operator.comparison.rekindle'],
    ['<=', 'keyword.operator.comparison.rekindle'],
    ['>=', 'keyword.operator.comparison.rekindle'],
    ['<', 'keyword.operator.comparison.rekindle', 2],
    ['>', 'keyword.operator.comparison.rekindle', 2],
    ['??', 'keyword.operator.null-coalescing.rekindle'],
    ['+', 'keyword.operator.arithmetic.rekindle'],
    ['-', 'keyword.operator.arithmetic.rekindle'],
    ['*', 'keyword.operator.arithmetic.rekindle'],
    ['/', 'keyword.operator.arithmetic.rekindle'],
    ['%', 'keyword.operator.arithmetic.rekindle'],
    ['or', 'keyword.operator.logical.rekindle'],
  ]));

test('word operators and constants', () =>
  expectScopes(
    [
      'let v = events where kind in ["a"] and not x is not null',
      'let w = [true, false, null, none, now, today, previous.stage]',
    ].join('\n'),
    [
      ['where', 'keyword.operator.expression.rekindle'],
      ['kind «in» [', 'keyword.operator.expression.rekindle'],
      ['and', 'keyword.operator.logical.rekindle'],
      ['not', 'keyword.operator.logical.rekindle'],
      ['x «is» not', 'keyword.operator.expression.rekindle'],
      ['null', 'constant.language.null.rekindle'],
      ['true', 'constant.language.boolean.rekindle'],
      ['false', 'constant.language.boolean.rekindle'],
      ['none', 'constant.language.none.rekindle'],
      ['now', 'constant.language.now.rekindle'],
      ['today', 'constant.language.today.rekindle'],
      ['previous', 'constant.language.previous.rekindle'],
      ['stage', 'variable.other.property.rekindle'],
      ['events', 'variable.other.rekindle'],
    ]
  ));

test('built-in function calls', async () => {
  for (const name of BUILTINS) {
    await expectScopes(`let v = ${name}(a, b)`, [[name, 'support.function.builtin.rekindle']]);
  }
  await expectScopes(
    [
      'let y = days_since (max(purchases.at)) + quantile_rank(spend)',
      'let count_ok = count + date + x.count(a) + my_count(a)',
    ].join('\n'),
    [
      ['days_since', 'support.function.builtin.rekindle'],
      ['max', 'support.function.builtin.rekindle'],
      ['at', 'variable.other.property.rekindle'],
      ['quantile_rank', 'support.function.builtin.rekindle'],
      // Without a call these are plain names (customer fields are often called date, day, ...).
      ['count_ok = «count» +', 'variable.other.rekindle'],
      ['«date» +', 'variable.other.rekindle'],
      ['x.«count»', '!support.function.builtin'],
      ['x.«count»', 'entity.name.function.member.rekindle'],
      ['my_count', 'variable.other.rekindle'],
    ]
  );
});

test('module members and fields after a dot', () =>
  expectScopes(
    [
      'segment champion when rfm.segment == "Champions" and rfm.r >= 4',
      'let alive = clv.p_alive() + clv.expected_value(90d) + lifecycle.idle',
      'let last_channel = last(events).channel + lc.purchases + x.end + x.when',
    ].join('\n'),
    [
      ['rfm', 'entity.name.namespace.rekindle'],
      ['segment', 'support.variable.module.rekindle', 2],
      ['segment', '!keyword', 2],
      ['rfm.«r» >=', 'support.variable.module.rekindle'],
      ['clv', 'entity.name.namespace.rekindle'],
      ['p_alive', 'support.function.module.rekindle'],
      ['expected_value', 'support.function.module.rekindle'],
      ['90d', 'constant.numeric.duration.rekindle'],
      ['lifecycle', 'entity.name.namespace.rekindle'],
      ['idle', 'support.variable.module.rekindle'],
      [').«channel»', 'variable.other.property.rekindle'],
      [').«channel»', '!variable.language'],
      ['lc', 'variable.other.rekindle'],
      ['purchases', 'variable.other.property.rekindle'],
      ['end', 'variable.other.property.rekindle'],
      ['x.«when»', 'variable.other.property.rekindle'],
      ['x.«when»', '!keyword'],
    ]
  ));

test('decision tables: keywords, row outcomes, decisions in expressions', () =>
  expectScopes(
    [
      'stage',
      '  new            when count(purchases) == 0  # first row',
      '  active         when idle <= 90d and x.end == 1',
      '  dormant        otherwise',
      'end',
      '',
      'channel',
      '  email when not (email_bounced ?? false)',
      '  sms   when stage in [at_risk, dormant]',
      '        limit 6 rank by spend desc',
      '  none  otherwise',
      'end',
      '',
      'offer',
      '  none      when channel == none',
      '  WINBACK20 when stage != dormant limit daily rank by spend asc',
      'end',
      'segment lost when stage == dormant and offer == WINBACK20',
    ].join('\n'),
    [
      ['stage', 'keyword.control.table.rekindle'],
      ['stage', 'meta.table.stage.rekindle'],
      ['new', 'variable.other.enummember.outcome.rekindle'],
      ['new', 'meta.table.stage.rekindle'],
      ['when', 'keyword.control.conditional.rekindle'],
      ['# first row', 'comment.line.number-sign.rekindle'],
      ['active', 'variable.other.enummember.outcome.rekindle'],
      ['dormant', 'variable.other.enummember.outcome.rekindle'],
      ['otherwise', 'keyword.control.conditional.rekindle'],
      ['end', 'variable.other.property.rekindle'],
      ['end', 'keyword.control.table.rekindle', 2],
      ['end', 'meta.table.stage.rekindle', 2],
      ['channel', 'keyword.control.table.rekindle'],
      ['channel', 'meta.table.channel.rekindle'],
      ['email', 'variable.other.enummember.outcome.rekindle'],
      ['email_bounced', 'variable.other.rekindle'],
      ['sms', 'variable.other.enummember.outcome.rekindle'],
      ['stage', 'variable.language.decision.rekindle', 2],
      ['at_risk', 'variable.other.rekindle'],
      ['dormant', 'variable.other.rekindle', 2],
      ['limit', 'keyword.other.clause.rekindle'],
      ['rank', 'keyword.other.clause.rekindle'],
      ['by', 'keyword.other.clause.rekindle'],
      ['desc', 'keyword.other.clause.rekindle'],
      ['asc', 'keyword.other.clause.rekindle'],
      ['none', 'constant.language.none.rekindle'],
      ['none', 'meta.table.channel.rekindle'],
      ['offer', 'keyword.control.table.rekindle'],
      ['offer', 'meta.table.offer.rekindle'],
      ['channel', 'variable.language.decision.rekindle', 2],
      ['WINBACK20', 'variable.other.enummember.outcome.rekindle'],
      ['daily', 'variable.other.rekindle'],
      ['segment lost', '!meta.table'],
      ['lost', 'entity.name.variable.segment.rekindle'],
      ['stage', 'variable.language.decision.rekindle', 4],
      ['offer', 'variable.language.decision.rekindle', 2],
      ['WINBACK20', 'variable.other.rekindle', 2],
    ]
  ));

test('a table without `end` stops at the next declaration', () =>
  expectScopes(['stage', '  a when x', '  b otherwise', 'let y = 1', 'segment z when y == 1'].join('\n'), [
    ['stage', 'keyword.control.table.rekindle'],
    ['b', 'meta.table.stage.rekindle'],
    ['let', 'keyword.declaration.rekindle'],
    ['let', '!meta.table'],
    ['y', 'entity.name.variable.let.rekindle'],
    ['z', 'entity.name.variable.segment.rekindle'],
    ['z', '!meta.table'],
  ]));

test('caps', () =>
  expectScopes(
    ['cap email:  2 per 7d, 6 per 30d when account_type == "b2b"', 'cap any: 1 per calendar day'].join('\n'),
    [
      ['cap', 'keyword.declaration.rekindle'],
      ['email', 'variable.other.enummember.channel.rekindle'],
      [':', 'punctuation.separator.colon.rekindle'],
      ['per', 'keyword.other.clause.rekindle'],
      ['7d', 'constant.numeric.duration.rekindle'],
      [',', 'punctuation.separator.comma.rekindle'],
      ['when', 'keyword.control.conditional.rekindle'],
      ['any', 'variable.other.enummember.channel.rekindle'],
      ['calendar', 'keyword.other.clause.rekindle'],
      ['day', 'keyword.other.unit.calendar.rekindle'],
    ]
  ));

test('characters the lexer rejects are marked invalid', () =>
  expectScopes('let x = a @ b ! c ? d; e', [
    ['@', 'invalid.illegal.character.rekindle'],
    ['!', 'invalid.illegal.character.rekindle'],
    ['?', 'invalid.illegal.character.rekindle'],
    [';', 'invalid.illegal.character.rekindle'],
    ['a', '!invalid'],
  ]));

test('every keyword of grammar/Rekindle.g4 is highlighted as a keyword or constant', async () => {
  for (const k of KEYWORDS) {
    await expectScopes(`x «${k}» y`.replace(/[«»]/g, ''), [[`x «${k}» y`, KEYWORD_SCOPE[k] || `(a scope for the new keyword ${k})`]]);
    // After a dot any word is a name.
    await expectScopes(`x.${k}`, [[`x.«${k}»`, 'variable.other.property.rekindle']]);
  }
});

test('every scope name of the grammar ends in .rekindle', () => {
  const names = [];
  (function walk(v) {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'name' || k === 'contentName') && typeof x === 'string' && v !== GRAMMAR_JSON) names.push(x);
        walk(x);
      }
    }
  })(GRAMMAR_JSON);
  assert.ok(names.length > 30);
  for (const n of names) assert.match(n, /^[a-z][a-z0-9-]*(\.[a-z0-9$-]+)*\.rekindle$/, n);
});

// ---- every rules file in the repository ---------------------------------------------------

// A reference lexer following grammar/Rekindle.g4: the longest match wins, ties go to the rule
// listed first (keywords before IDENT). One line at a time (no token spans lines).
const D = '[0-9]';
const LEXER_RULES = [
  ...KEYWORDS.map((k) => ['KW', new RegExp(k, 'y')]),
  ['TIME', new RegExp(`${D}{4}-${D}{2}-${D}{2}T${D}{2}:${D}{2}(?::${D}{2}(?:\\.${D}+)?)?(?:Z|[+-]${D}{2}:${D}{2})?`, 'y')],
  ['DATE', new RegExp(`${D}{4}-${D}{2}-${D}{2}`, 'y')],
  ['DURATION', new RegExp(`${D}+[wdhms]`, 'y')],
  ['PERCENT', new RegExp(`${D}+(?:\\.${D}+)?%`, 'y')],
  ['FLOAT', new RegExp(`${D}+\\.${D}+(?:[eE][+-]?${D}+)?`, 'y')],
  ['INT', new RegExp(`${D}+`, 'y')],
  ['STRING', /"(?:\\.|[^"\\\r\n])*"/y],
  ['UNTERMINATED_STRING', /"(?:\\.|[^"\\\r\n])*/y],
  ['IDENT', /[A-Za-z_][A-Za-z0-9_]*/y],
  ...['??', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '.', ':', '=']
    .map((op) => ['OP', new RegExp(op.replace(/[?*+.()[\]/]/g, '\\$&'), 'y')]),
  ['COMMENT', /#[^\r\n]*/y],
  ['WS', /[ \t\f]+/y],
  ['BAD_CHAR', /[\s\S]/uy],
];

function lexLine(text) {
  const out = [];
  for (let pos = 0; pos < text.length;) {
    let best = null;
    for (const [kind, re] of LEXER_RULES) {
      re.lastIndex = pos;
      const m = re.exec(text);
      if (m && m[0].length > 0 && (!best || m[0].length > best.text.length)) best = { kind, text: m[0] };
    }
    out.push({ ...best, start: pos, end: pos + best.text.length });
    pos += best.text.length;
  }
  return out;
}

const ENDS_EXPRESSION = new Set(['true', 'false', 'null', 'none', 'now', 'today', 'previous', 'stage', 'channel',
  'offer', 'end', 'asc', 'desc']);

// Annotates each token with what the grammar should say about it: `expect` (a scope every
// grammar token of it must carry) and `table` (the table kind it is in, or null). Tables are
// found from the token stream alone: a table keyword starts a table when it does not continue
// an expression and is followed by `end` or by a row (`OUTCOME when|otherwise`).
function annotate(lines) {
  const sig = [];
  for (const line of lines) for (const t of line.ref) if (t.kind !== 'WS' && t.kind !== 'COMMENT') sig.push(t);
  const isKw = (t, ...words) => t && t.kind === 'KW' && (words.length === 0 || words.includes(t.text));
  const isOp = (t, op) => t && t.kind === 'OP' && t.text === op;
  const endsExpr = (t) => !t || t.kind in LITERAL_SCOPE || t.kind === 'STRING' || t.kind === 'IDENT' ||
    isOp(t, ')') || isOp(t, ']') || (t.kind === 'KW' && ENDS_EXPRESSION.has(t.text));
  const isRow = (j) => sig[j] && (sig[j].kind === 'IDENT' || isKw(sig[j], 'none')) && isKw(sig[j + 1], 'when', 'otherwise');

  let table = null;
  let inUse = false;
  for (let j = 0; j < sig.length; j++) {
    const t = sig[j];
    const prev = sig[j - 1];
    const next = sig[j + 1];
    const afterDot = isOp(prev, '.');
    const member = () => {
      const call = isOp(next, '(');
      const obj = sig[j - 2];
      if (obj && obj.kind === 'IDENT' && MODULES.includes(obj.text) && !isOp(sig[j - 3], '.')) {
        return call ? 'support.function.module.rekindle' : 'support.variable.module.rekindle';
      }
      return call ? 'entity.name.function.member.rekindle' : 'variable.other.property.rekindle';
    };

    if (isKw(t, 'use') && !afterDot) inUse = true;
    else if (inUse && !(t.kind === 'IDENT' || isOp(t, '.') || isKw(t, 'as'))) inUse = false;

    let startsTable = false;
    if (isKw(t, 'stage', 'channel', 'offer') && !afterDot && (!prev || endsExpr(prev)) && (isKw(next, 'end') || isRow(j + 1))) {
      startsTable = true;
      table = t.text;
    }
    t.table = table;

    if (t.kind === 'KW') {
      if (afterDot) t.expect = member();
      else if (startsTable) t.expect = 'keyword.control.table.rekindle';
      else t.expect = KEYWORD_SCOPE[t.text];
      if (isKw(t, 'end') && !afterDot) table = null;
    } else if (t.kind === 'IDENT') {
      if (inUse) t.expect = 'entity.name.namespace.rekindle';
      else if (afterDot) t.expect = member();
      else if (isKw(prev, 'let', 'segment', 'param')) t.expect = `entity.name.variable.${prev.text}.rekindle`;
      else if (isKw(prev, 'rules')) t.expect = 'entity.name.namespace.rekindle';
      else if (isKw(prev, 'cap')) t.expect = 'variable.other.enummember.channel.rekindle';
      else if (isKw(prev, 'calendar')) t.expect = 'keyword.other.unit.calendar.rekindle';
      else if (MODULES.includes(t.text) && isOp(next, '.')) t.expect = 'entity.name.namespace.rekindle';
      else if (table && isKw(next, 'when', 'otherwise')) t.expect = 'variable.other.enummember.outcome.rekindle';
      else if (BUILTINS.includes(t.text) && isOp(next, '(')) t.expect = 'support.function.builtin.rekindle';
      else t.expect = 'variable.other.rekindle';
    } else if (t.kind === 'OP') t.expect = OPERATOR_SCOPE[t.text];
    else if (t.kind === 'STRING' || t.kind === 'UNTERMINATED_STRING') t.expect = 'string.quoted.double.rekindle';
    else if (t.kind === 'BAD_CHAR') t.expect = 'invalid.illegal.character.rekindle';
    else t.expect = LITERAL_SCOPE[t.kind];
  }
  // Comments take the table of the token before them (a comment before `end` is inside).
  let table2 = null;
  for (const line of lines) {
    for (const t of line.ref) {
      if (t.kind === 'COMMENT') {
        t.table = table2;
        t.expect = 'comment.line.number-sign.rekindle';
      } else if (t.kind !== 'WS') {
        table2 = isKw(t, 'end') && t.table ? null : t.table;
        // The `end` keyword itself is still inside its table.
      }
    }
  }
}

function checkFile(lines, rel) {
  const failures = [];
  let checked = 0;
  const fail = (ln, t, msg, toks) =>
    failures.push(`${rel}:${ln + 1}:${t.start + 1} ${t.kind} ${JSON.stringify(t.text)}: ${msg}; got ${show(toks)}`);
  lines.forEach((line, ln) => {
    // Nothing is left unscoped: every grammar token with text other than blanks carries a scope
    // beyond the file's own and the table's meta scope. Nothing in the repository is invalid.
    for (const g of line.tokens) {
      if (/\S/.test(g.text) && !g.scopes.some((s) => s !== 'source.rekindle' && !s.startsWith('meta.'))) {
        failures.push(`${rel}:${ln + 1}:${g.start + 1} ${JSON.stringify(g.text)} has no scope: [${g.scopes.join(' ')}]`);
      }
      if (g.scopes.some((s) => s.startsWith('invalid.'))) {
        failures.push(`${rel}:${ln + 1}:${g.start + 1} ${JSON.stringify(g.text)} is marked invalid: [${g.scopes.join(' ')}]`);
      }
    }
    for (const t of line.ref) {
      if (t.kind === 'WS') continue;
      checked++;
      const toks = line.tokens.filter((g) => g.end > t.start && g.start < t.end);
      // The grammar's tokens fall inside the lexer's: it may split a token (`90` `d`), never
      // join two or cut across one.
      if (!toks.length || toks[0].start < t.start || toks[toks.length - 1].end > t.end) {
        fail(ln, t, 'grammar tokens do not line up with the lexer token', toks);
        continue;
      }
      if (!t.expect) {
        fail(ln, t, 'the test has no expectation for this token (a new keyword or operator?)', toks);
        continue;
      }
      if (!toks.every((g) => hasScope(g, t.expect))) fail(ln, t, `expected ${t.expect}`, toks);
      if (t.kind === 'COMMENT' && !hasScope(toks[0], 'punctuation.definition.comment')) {
        fail(ln, t, 'expected the # as punctuation.definition.comment', toks);
      }
      if (t.kind === 'STRING') {
        if (!hasScope(toks[0], 'punctuation.definition.string.begin') || !hasScope(toks[toks.length - 1], 'punctuation.definition.string.end')) {
          fail(ln, t, 'expected the quotes as punctuation.definition.string.begin/end', toks);
        }
        // Each escape is one token: valid ones constant.character.escape, others invalid.
        for (const m of t.text.matchAll(/\\./g)) {
          const s = t.start + m.index;
          const esc = line.tokens.filter((g) => g.end > s && g.start < s + 2);
          const want = /\\["\\nt]/.test(m[0]) ? 'constant.character.escape.rekindle' : 'invalid.illegal.escape.rekindle';
          if (esc.length !== 1 || esc[0].start !== s || esc[0].end !== s + 2 || !hasScope(esc[0], want)) {
            fail(ln, t, `expected the escape ${m[0]} as ${want}`, esc);
          }
        }
      }
      const want = t.table ? `meta.table.${t.table}.rekindle` : null;
      if (want ? !toks.every((g) => hasScope(g, want)) : toks.some((g) => hasScope(g, 'meta.table'))) {
        fail(ln, t, want ? `expected inside ${want}` : 'expected outside any table', toks);
      }
    }
  });
  return { failures, checked };
}

function rulesFiles() {
  const out = [];
  const add = (dir, recurse) => {
    const abs = path.join(REPO, dir);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && recurse) add(path.join(dir, e.name), false);
      else if (e.isFile() && e.name.endsWith('.rules')) out.push(path.join(dir, e.name));
    }
  };
  add('examples', true); // examples/*/*.rules
  add(path.join('tests', 'conformance'), false);
  add(path.join('stdlib', 'std'), false);
  return out;
}

test('the reference lexer knows the keywords of grammar/Rekindle.g4', () => {
  assert.ok(KEYWORDS.length >= 30, `found ${KEYWORDS.length} keywords in Rekindle.g4`);
  for (const k of ['let', 'segment', 'stage', 'end', 'previous']) assert.ok(KEYWORDS.includes(k), k);
  const missing = KEYWORDS.filter((k) => !KEYWORD_SCOPE[k]);
  assert.deepEqual(missing, [], 'keywords of Rekindle.g4 this test (and maybe the grammar) does not know');
});

test('the grammar knows the built-in functions of the stdlib', (t) => {
  const src = path.join(REPO, 'stdlib', 'src', 'builtins.cpp');
  if (!fs.existsSync(src)) return t.skip('stdlib/src/builtins.cpp not found');
  const text = fs.readFileSync(src, 'utf8');
  const names = new Set([...text.matchAll(/\{\s*""\s*,\s*"([a-z_][a-z0-9_]*)\(/g)].map((m) => m[1]));
  if (names.size < 10) return t.skip('the builtins table of stdlib/src/builtins.cpp has a new layout');
  assert.deepEqual([...names].sort(), [...BUILTINS].sort());
  const inGrammar = GRAMMAR_JSON.repository['builtin-call'].match;
  for (const n of names) assert.ok(inGrammar.includes(`|${n}|`) || inGrammar.includes(`(${n}|`) || inGrammar.includes(`|${n})`), n);
});

test('every rules file in the repository is highlighted token by token', async () => {
  const files = rulesFiles();
  const examples = files.filter((f) => f.startsWith('examples' + path.sep));
  assert.ok(examples.length >= 1, 'no examples/*/*.rules found');
  const all = [];
  let checked = 0;
  for (const rel of files) {
    const lines = await tokenize(fs.readFileSync(path.join(REPO, rel), 'utf8'));
    for (const line of lines) line.ref = lexLine(line.text);
    annotate(lines);
    const r = checkFile(lines, rel);
    checked += r.checked;
    all.push(...r.failures.slice(0, 20));
  }
  assert.deepEqual(all, [], `${all.length} mismatches:\n${all.join('\n')}`);
  console.log(`# ${files.length} rules files (${examples.length} examples), ${checked} tokens checked`);
});
