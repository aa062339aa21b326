// Problem data from files: a JSON object of named arrays (inline nested arrays, numbers, or strings
// naming .npy files relative to the JSON file), or a single .npy file holding one array.
// Shapes are checked against symbolic dimensions (e.g. ['m', 'n']) that must agree across fields,
// and every error names the file, the field and what was expected.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NpyError, parseNpy } from './npy';

export class ProblemFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProblemFileError';
  }
}

export interface ProblemArray {
  data: Float64Array;
  shape: number[];
}

/** Named arrays read from a problem file, with the symbolic dimensions bound so far. */
export class ProblemData {
  readonly dims = new Map<string, number>();
  constructor(
    readonly source: string,
    readonly arrays: Map<string, ProblemArray>,
  ) {}

  has(name: string): boolean {
    return this.arrays.has(name);
  }

  /**
   * The array `name`, checked against `shape`: numbers are exact sizes, strings are symbolic
   * dimensions bound on first use and checked afterwards. Throws a ProblemFileError otherwise.
   */
  get(name: string, shape: (number | string)[]): Float64Array {
    const a = this.arrays.get(name);
    const want = shape.map((d) => (typeof d === 'number' ? String(d) : this.dims.has(d) ? `${d}=${this.dims.get(d)}` : d)).join(', ');
    if (!a) {
      const present = [...this.arrays.keys()].join(', ') || 'none';
      throw new ProblemFileError(`${this.source}: missing field '${name}' (expected an array of shape (${want}); fields present: ${present})`);
    }
    const bad = () => new ProblemFileError(`${this.source}: field '${name}' has shape (${a.shape.join(', ')}), expected (${want})`);
    if (a.shape.length !== shape.length) throw bad();
    const bound: [string, number][] = [];
    for (let i = 0; i < shape.length; i++) {
      const d = shape[i];
      if (typeof d === 'number') {
        if (a.shape[i] !== d) throw bad();
      } else if (this.dims.has(d) || bound.some(([k]) => k === d)) {
        const v = this.dims.get(d) ?? bound.find(([k]) => k === d)![1];
        if (a.shape[i] !== v) throw bad();
      } else {
        if (a.shape[i] < 1) throw new ProblemFileError(`${this.source}: field '${name}' has an empty dimension ${i} (shape (${a.shape.join(', ')}))`);
        bound.push([d, a.shape[i]]);
      }
    }
    for (const [k, v] of bound) this.dims.set(k, v);
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i])) throw new ProblemFileError(`${this.source}: field '${name}' has a non-finite value at flat index ${i}`);
    }
    return a.data;
  }

  /** A scalar field (a JSON number or a 0-d / 1-element array), or `fallback` when absent. */
  scalar(name: string, fallback?: number): number {
    const a = this.arrays.get(name);
    if (!a) {
      if (fallback !== undefined) return fallback;
      throw new ProblemFileError(`${this.source}: missing scalar field '${name}'`);
    }
    if (a.data.length !== 1) throw new ProblemFileError(`${this.source}: field '${name}' must be a scalar, got shape (${a.shape.join(', ')})`);
    if (!Number.isFinite(a.data[0])) throw new ProblemFileError(`${this.source}: field '${name}' is not a finite number`);
    return a.data[0];
  }
}

/**
 * Reads a .npy file as float64. The bytes are copied into a fresh Uint8Array first: a Node Buffer
 * from readFileSync may be a view into a shared pool, which typed-array views must not start from.
 */
function readNpyFloat(path: string): ProblemArray {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ProblemFileError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const a = parseNpy(bytes, path);
  const data = a.data instanceof BigInt64Array ? Float64Array.from(a.data, (x) => Number(x)) : Float64Array.from(a.data as ArrayLike<number>);
  return { data, shape: a.shape };
}

function fromNested(value: unknown, source: string, field: string): ProblemArray {
  if (typeof value === 'number') return { data: Float64Array.of(value), shape: [] };
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(count);
  let k = 0;
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new ProblemFileError(`${source}: field '${field}'${path} must be a number, got ${JSON.stringify(v)}`);
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new ProblemFileError(`${source}: field '${field}'${path} is ragged: expected a list of length ${shape[depth]} at depth ${depth}`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, '');
  return { data, shape };
}

/**
 * Reads a problem file. `.npy`: one array, stored under `singleName`. `.json`: an object whose
 * values are numbers, nested arrays, or paths to .npy files (relative to the JSON file).
 */
export function loadProblemFile(path: string, singleName = 'data'): ProblemData {
  const arrays = new Map<string, ProblemArray>();
  try {
    if (path.toLowerCase().endsWith('.npy')) {
      arrays.set(singleName, readNpyFloat(path));
      return new ProblemData(path, arrays);
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ProblemFileError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new ProblemFileError(`${path}: malformed JSON (${(e as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new ProblemFileError(`${path}: expected a JSON object of named arrays, e.g. {"A": [[1, 2], [3, 4]]}`);
    }
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (typeof v === 'string') {
        if (!v.toLowerCase().endsWith('.npy')) throw new ProblemFileError(`${path}: field '${k}' is a string but not a .npy path: ${v}`);
        arrays.set(k, readNpyFloat(resolve(dirname(path), v)));
      } else if (typeof v === 'number' || Array.isArray(v)) {
        arrays.set(k, fromNested(v, path, k));
      } else {
        throw new ProblemFileError(`${path}: field '${k}' must be a number, a nested array or a .npy path, got ${v === null ? 'null' : typeof v}`);
      }
    }
    return new ProblemData(path, arrays);
  } catch (e) {
    if (e instanceof NpyError) throw new ProblemFileError(e.message);
    throw e;
  }
}
