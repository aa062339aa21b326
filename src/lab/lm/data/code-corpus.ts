// A JavaScript/TypeScript corpus from permissively licensed sources that ship in our own
// node_modules, so that it needs no network. Every source is listed with its license below
// (and in models/DATA.md); the split is by file, deterministic.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { splitOf, type Split } from './brown';

export interface CodeSource {
  /** npm package name. */
  pkg: string;
  /** SPDX license id of the package (checked against its package.json at load time). */
  license: string;
  /** Folder inside the package to walk. */
  dir: string;
  /** Which files to keep (path relative to the package root). */
  include: (relPath: string) => boolean;
  language: 'typescript' | 'javascript';
}

export const CODE_SOURCES: readonly CodeSource[] = [
  {
    pkg: 'typescript',
    license: 'Apache-2.0',
    dir: 'lib',
    // ECMAScript library declarations; the generated DOM / WebWorker declarations are left out
    // because they are huge and repetitive.
    include: (p) => /^lib\/lib\.[^/]*\.d\.ts$/.test(p) && !/dom|webworker|scripthost/.test(p),
    language: 'typescript',
  },
  {
    pkg: 'eslint',
    license: 'MIT',
    dir: 'lib/rules',
    include: (p) => p.endsWith('.js'),
    language: 'javascript',
  },
  {
    pkg: 'zod',
    license: 'MIT',
    dir: 'src',
    include: (p) => p.endsWith('.ts') && !p.endsWith('.d.ts') && !/test|locales/.test(p),
    language: 'typescript',
  },
  {
    pkg: 'semver',
    license: 'ISC',
    dir: '.',
    include: (p) => p.endsWith('.js') && !p.startsWith('node_modules/'),
    language: 'javascript',
  },
  {
    pkg: '@huggingface/jinja',
    license: 'MIT',
    dir: 'src',
    include: (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'),
    language: 'typescript',
  },
];

export interface CodeDocument {
  /** `<package>/<path inside the package>`, e.g. `eslint/lib/rules/no-var.js`. */
  id: string;
  pkg: string;
  version: string;
  license: string;
  language: CodeSource['language'];
  split: Split;
  text: string;
}

function packageRoot(pkg: string): string {
  const require = createRequire(__filename);
  let path: string;
  try {
    path = require.resolve(`${pkg}/package.json`);
  } catch {
    // Packages whose "exports" hide package.json: walk up from the main entry.
    let dir = dirname(require.resolve(pkg));
    while (!existsSync(join(dir, 'package.json'))) {
      const up = dirname(dir);
      if (up === dir) throw new Error(`code corpus: cannot find package.json of ${pkg}`);
      dir = up;
    }
    path = join(dir, 'package.json');
  }
  return dirname(path);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** All files of all sources, sorted by id, each with its split (by position: see splitOf). */
export function loadCodeCorpus(sources: readonly CodeSource[] = CODE_SOURCES): CodeDocument[] {
  const docs: Omit<CodeDocument, 'split'>[] = [];
  for (const src of sources) {
    const root = packageRoot(src.pkg);
    const meta = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string; license?: string };
    if (meta.license !== src.license) {
      throw new Error(`code corpus: ${src.pkg} declares license ${JSON.stringify(meta.license)}, expected ${src.license}`);
    }
    const base = join(root, src.dir);
    if (!existsSync(base)) throw new Error(`code corpus: ${base} not found (${src.pkg}@${meta.version})`);
    for (const file of walk(base)) {
      const rel = relative(root, file).split('\\').join('/');
      if (!src.include(rel)) continue;
      docs.push({
        id: `${src.pkg}/${rel}`,
        pkg: src.pkg,
        version: meta.version ?? 'unknown',
        license: src.license,
        language: src.language,
        text: readFileSync(file, 'utf8'),
      });
    }
  }
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return docs.map((d, i) => ({ ...d, split: splitOf(i) }));
}

/** Texts (one per file) of one split. */
export function codeTexts(split: Split, docs = loadCodeCorpus()): string[] {
  return docs.filter((d) => d.split === split).map((d) => d.text);
}
