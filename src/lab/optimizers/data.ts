// Problem data for the optimizer experiments: a design matrix X (n×d) and targets y (n), read
// from .npy or .json files or generated. Errors name the config field, the file and what was
// expected, so a user can fix a bad file without reading code.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { readMatrix } from '../../core/io/npy';

export interface Dataset {
  /** Row-major n×d. */
  X: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
}

export class DataFileError extends Error {}

function readJson(path: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataFileError(`${field}: cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataFileError(`${field}: '${path}' is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

function matrixFromJson(v: unknown, path: string, field: string): { data: Float64Array; shape: number[] } {
  if (!Array.isArray(v)) throw new DataFileError(`${field}: '${path}' must hold an array`);
  if (v.length > 0 && Array.isArray(v[0])) {
    const rows = v.length;
    const cols = (v[0] as unknown[]).length;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = v[i];
      if (!Array.isArray(row) || row.length !== cols) {
        throw new DataFileError(`${field}: '${path}' row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${cols} (all rows the same length)`);
      }
      for (let j = 0; j < cols; j++) {
        const x = row[j];
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new DataFileError(`${field}: '${path}' entry [${i}][${j}] is ${JSON.stringify(x)}, expected a finite number`);
        data[i * cols + j] = x;
      }
    }
    return { data, shape: [rows, cols] };
  }
  const data = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new DataFileError(`${field}: '${path}' entry [${i}] is ${JSON.stringify(x)}, expected a finite number`);
    data[i] = x;
  }
  return { data, shape: [v.length] };
}

/** Reads a numeric array from .npy or .json (a nested array, or an object holding `key`). */
export function readArrayFile(path: string, field: string, key?: string): { data: Float64Array; shape: number[] } {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    try {
      const m = readMatrix(path);
      for (let i = 0; i < m.data.length; i++) {
        if (!Number.isFinite(m.data[i])) throw new DataFileError(`${field}: '${path}' element ${i} is not finite`);
      }
      return m;
    } catch (e) {
      if (e instanceof DataFileError) throw e;
      throw new DataFileError(`${field}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (ext === '.json') {
    let v = readJson(path, field);
    if (key !== undefined && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      if (!(key in (v as object))) throw new DataFileError(`${field}: '${path}' is an object without a '${key}' array`);
      v = (v as Record<string, unknown>)[key];
    }
    return matrixFromJson(v, path, field);
  }
  throw new DataFileError(`${field}: '${path}' must be a .npy or .json file`);
}

export interface LoadOptions {
  /** Config field names, used in error messages. */
  xField: string;
  yField: string;
  /** 'binary' maps {0,1} or {−1,+1} labels to ±1; 'real' keeps values. */
  labels: 'binary' | 'real';
  /** Required number of columns (after any bias column is added by the caller), or undefined. */
  d?: number;
}

/**
 * Loads X (n×d) and y (n) from files. X from `xPath` (.npy 2-D, or .json 2-D array, or a .json
 * object {"X": [[…]], "y": […]} in which case `yPath` may be empty).
 */
export function loadDataset(xPath: string, yPath: string, o: LoadOptions): Dataset {
  const xm = readArrayFile(xPath, o.xField, 'X');
  if (xm.shape.length !== 2) throw new DataFileError(`${o.xField}: '${xPath}' must be a 2-D array (n×d), got shape (${xm.shape.join(', ')})`);
  const [n, d] = xm.shape;
  if (n < 2 || d < 1) throw new DataFileError(`${o.xField}: '${xPath}' has shape (${n}, ${d}); need at least 2 rows and 1 column`);
  if (o.d !== undefined && d !== o.d) throw new DataFileError(`${o.xField}: '${xPath}' has ${d} columns, expected ${o.d}`);
  const yFile = yPath || (extname(xPath).toLowerCase() === '.json' ? xPath : '');
  if (!yFile) throw new DataFileError(`${o.yField}: give a .npy or .json file of ${n} targets for the X in '${xPath}'`);
  const ym = readArrayFile(yFile, o.yField, 'y');
  const yLen = ym.shape.length === 1 ? ym.shape[0] : ym.shape.length === 2 && ym.shape[1] === 1 ? ym.shape[0] : -1;
  if (yLen < 0) throw new DataFileError(`${o.yField}: '${yFile}' must be a 1-D array of ${n} targets, got shape (${ym.shape.join(', ')})`);
  if (yLen !== n) throw new DataFileError(`${o.yField}: '${yFile}' has ${yLen} targets but X has ${n} rows`);
  const y = Float64Array.from(ym.data);
  if (o.labels === 'binary') {
    const zeroOne = y.every((v) => v === 0 || v === 1);
    const pm = y.every((v) => v === -1 || v === 1);
    if (!zeroOne && !pm) {
      const bad = y.findIndex((v) => v !== 0 && v !== 1 && v !== -1);
      throw new DataFileError(`${o.yField}: '${yFile}' must hold binary labels in {0,1} or {−1,+1}; entry ${bad} is ${y[bad]}`);
    }
    if (zeroOne) for (let i = 0; i < n; i++) y[i] = y[i] === 1 ? 1 : -1;
  }
  return { X: xm.data, y, n, d };
}

/** Appends a constant-1 column (bias) to X. */
export function withBias(ds: Dataset): Dataset {
  const d = ds.d + 1;
  const X = new Float64Array(ds.n * d);
  for (let i = 0; i < ds.n; i++) {
    for (let j = 0; j < ds.d; j++) X[i * d + j] = ds.X[i * ds.d + j];
    X[i * d + ds.d] = 1;
  }
  return { X, y: ds.y, n: ds.n, d };
}

/** Splits the first `nTrain` rows from the rest. */
export function splitRows(ds: Dataset, nTrain: number): { train: Dataset; test: Dataset } {
  const take = (a: number, b: number): Dataset => ({ X: ds.X.slice(a * ds.d, b * ds.d), y: ds.y.slice(a, b), n: b - a, d: ds.d });
  return { train: take(0, nTrain), test: take(nTrain, ds.n) };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length;
  if (m === 0) return NaN;
  return m % 2 ? s[(m - 1) / 2] : 0.5 * (s[m / 2 - 1] + s[m / 2]);
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Least-squares slope of ys against xs. */
export function slope(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}
