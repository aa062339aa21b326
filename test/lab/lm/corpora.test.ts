import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brownDir, detokenize, loadBrown, parseBrownFile, splitOf, stripTag } from '../../../src/lab/lm/data/brown';
import { CODE_SOURCES, loadCodeCorpus } from '../../../src/lab/lm/data/code-corpus';

test('Brown: 500 documents, tags stripped, split by document, deterministic', () => {
  const docs = loadBrown();
  assert.equal(docs.length, 500);
  const first = docs.find((d) => d.id === 'ca01')!;
  assert.equal(first.genre, 'news');
  assert.equal(
    first.sentences[0],
    `The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced "no evidence" that any irregularities took place.`,
  );
  const counts = { train: 0, validation: 0, test: 0 };
  for (const d of docs) counts[d.split]++;
  assert.deepEqual(counts, { train: 459, validation: 23, test: 18 });
  // No tag survives: every Brown tag is lower case letters after a slash, e.g. "/nn-tl".
  const tagged = docs.flatMap((d) => d.sentences).filter((s) => /\S\/(at|nns?|in|vbd|np)(-tl)?(?= |$)/.test(s));
  assert.deepEqual(tagged, []);
  // Every genre is in train; the rule is by position within the genre.
  assert.equal(new Set(docs.filter((d) => d.split === 'train').map((d) => d.genre)).size, 15);
  assert.equal(splitOf(9), 'validation');
  assert.equal(splitOf(19), 'test');
  assert.equal(splitOf(20), 'train');
  const again = loadBrown();
  assert.deepEqual(
    again.map((d) => `${d.id}:${d.split}:${d.sentences.length}`),
    docs.map((d) => `${d.id}:${d.split}:${d.sentences.length}`),
  );
});

test('Brown: tag stripping and detokenization rules', () => {
  assert.equal(stripTag('1-1/2/cd', 'x'), '1-1/2');
  assert.equal(stripTag("Atlanta's/np$", 'x'), "Atlanta's");
  assert.throws(() => stripTag('noslash', 'ca99:3'), /ca99:3: expected a word\/tag token/);
  assert.equal(detokenize(['``', 'Yes', "''", ',', 'he', 'said', '(', 'twice', ')', '.']), '"Yes", he said (twice).');
  assert.equal(detokenize(['Ivan', 'Allen', 'Jr.', '.']), 'Ivan Allen Jr.');
  assert.deepEqual(parseBrownFile('\n\n\tThe/at dog/nn ./.\n\n\n\tIt/pps ran/vbd ./.\n', 'f'), ['The dog.', 'It ran.']);
});

test('Brown: corrupt files give errors naming the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brown-'));
  writeFileSync(join(dir, 'cats.txt'), 'ca01 news\nca02\n');
  assert.throws(() => loadBrown(dir), /cats\.txt:2: expected "<file> <genre>"/);
  writeFileSync(join(dir, 'cats.txt'), 'ca01 news\n');
  assert.throws(() => loadBrown(dir), /ca01 listed in cats\.txt but missing/);
  copyFileSync(join(brownDir(), 'ca01'), join(dir, 'ca01'));
  assert.equal(loadBrown(dir).length, 1);
  writeFileSync(join(dir, 'ca01'), '\n\n\tThe/at broken\n');
  assert.throws(() => loadBrown(dir), /ca01:3: expected a word\/tag token, got "broken"/);
  assert.throws(() => loadBrown(join(dir, 'nope')), /cats\.txt not found/);
});

test('code corpus: permissive sources only, split by file, deterministic', () => {
  const docs = loadCodeCorpus();
  assert.ok(docs.length > 400, `only ${docs.length} files`);
  const allowed = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause']);
  for (const d of docs) assert.ok(allowed.has(d.license), d.id);
  for (const src of CODE_SOURCES) assert.ok(docs.some((d) => d.pkg === src.pkg), `no files from ${src.pkg}`);
  assert.ok(docs.some((d) => d.id === 'eslint/lib/rules/no-var.js'));
  assert.ok(!docs.some((d) => d.id.includes('lib.dom.d.ts')));
  const chars = { train: 0, validation: 0, test: 0 };
  for (const d of docs) chars[d.split] += d.text.length;
  assert.ok(chars.validation > 50_000 && chars.test > 50_000 && chars.train > 2_000_000, JSON.stringify(chars));
  assert.deepEqual(
    loadCodeCorpus().map((d) => d.id + d.split),
    docs.map((d) => d.id + d.split),
  );
});

test('code corpus: a license that does not match the package is refused', () => {
  const bad = [{ ...CODE_SOURCES[3], license: 'MIT' }];
  assert.throws(() => loadCodeCorpus(bad), /semver declares license "ISC", expected MIT/);
});
