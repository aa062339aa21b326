import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { afinnValence, bradleyTerryPrefers, brownPrompts, distinctN, sentimentReward, winRate } from '../../../src/lab/tasks/sentiment';
import { parsePreferenceJsonl, readPreferenceJsonl } from '../../../src/lab/tasks/preference-data';

test('AFINN valence: words, negative words, multi-word phrases, unknown words', () => {
  assert.equal(afinnValence('a good day'), 3);
  assert.equal(afinnValence('Terrible, awful news.'), -3 + -3);
  assert.equal(afinnValence('the table is wooden'), 0);
  assert.equal(afinnValence('it does not work'), -3); // the phrase, not "work"
  assert.equal(sentimentReward('good good', 4), 1.5);
  assert.equal(sentimentReward('', 0), 0);
});

test('Brown prompts are sentence prefixes from the requested split, reproducible by seed', () => {
  const a = brownPrompts('validation', 20, new Rng(1));
  const b = brownPrompts('validation', 20, new Rng(1));
  assert.deepEqual(a, b);
  assert.equal(new Set(a).size, 20);
  assert.ok(a.every((p) => p.split(' ').length === 5));
  const train = new Set(brownPrompts('train', 200, new Rng(1)));
  assert.ok(a.filter((p) => train.has(p)).length < 5, 'held-out prompts come from another split');
});

test('Bradley–Terry comparisons follow σ((rA − rB)/T); distinct-n and win-rate', () => {
  const rng = new Rng(3);
  let wins = 0;
  for (let i = 0; i < 20000; i++) if (bradleyTerryPrefers(1, 0, 1, rng)) wins++;
  assert.ok(Math.abs(wins / 20000 - 1 / (1 + Math.exp(-1))) < 0.01);
  assert.ok(bradleyTerryPrefers(1, 0, 0, rng));
  assert.equal(distinctN(['a b a b'], 1), 0.5);
  assert.equal(distinctN(['a b c', 'a b d'], 2), 0.75);
  assert.equal(winRate([1, 0, 2], [0, 0, 3]), 0.5);
  assert.throws(() => winRate([], []), /non-empty/);
});

test('preference JSONL: valid pairs parse; every bad line names the line and the field', () => {
  assert.deepEqual(parsePreferenceJsonl('{"prompt":"p","chosen":"a","rejected":"b"}\n\n'), [{ prompt: 'p', chosen: 'a', rejected: 'b' }]);
  const bad: [string, RegExp][] = [
    ['{"prompt":"p","chosen":"a"}', /:1: missing field 'rejected'/],
    ['{"prompt":"p","chosen":"a","rejected":"b"}\n{"prompt":1,"chosen":"a","rejected":"b"}', /:2: field 'prompt' must be a string, got number/],
    ['{"prompt":"p","chosen":" ","rejected":"b"}', /field 'chosen' is empty/],
    ['{"prompt":"p","chosen":"a","rejected":"a"}', /identical/],
    ['[1,2]', /expected an object/],
    ['{nope', /:1: not valid JSON/],
    ['', /no preference pairs/],
  ];
  for (const [text, re] of bad) assert.throws(() => parsePreferenceJsonl(text, 'prefs.jsonl'), re);
  const dir = mkdtempSync(join(tmpdir(), 'pref-'));
  writeFileSync(join(dir, 'p.jsonl'), '{"prompt":"p","chosen":"a","rejected":"b"}\n');
  assert.equal(readPreferenceJsonl(join(dir, 'p.jsonl')).length, 1);
  assert.throws(() => readPreferenceJsonl(join(dir, 'none.jsonl')), /cannot read file \(ENOENT\)/);
});
