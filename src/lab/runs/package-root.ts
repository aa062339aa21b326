// Locates the installed package (for dist/cli.js, bundled models and data), from source or bundle.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'prox-lab') return (cached = dir);
      } catch {
        // keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the prox-lab package root above ${__dirname}`);
    dir = up;
  }
}

export function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
}

export function defaultCliPath(): string {
  return join(packageRoot(), 'dist', 'cli.js');
}
