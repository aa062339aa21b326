// Parameter store: named Float32Arrays (Hugging Face names), seeded initializers, and the scope
// that exposes them to a graph as named inputs.
import { Graph, GraphError, Tensor, fmtShape } from '../graph/graph';
import { Rng } from '../rng';

export type Init =
  | { kind: 'normal'; std: number; mean?: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'zeros' }
  | { kind: 'ones' };

export const normalInit = (std: number): Init => ({ kind: 'normal', std });
export const zerosInit: Init = { kind: 'zeros' };
export const onesInit: Init = { kind: 'ones' };

export interface Param {
  shape: number[];
  data: Float32Array;
}

export class ParamStore {
  private readonly entries = new Map<string, Param>();

  constructor(private readonly rng: Rng = new Rng(0)) {}

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): Param {
    const p = this.entries.get(name);
    if (!p) throw new GraphError(`parameter '${name}' not found (have ${this.entries.size} parameters)`);
    return p;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Total number of scalars. */
  count(): number {
    let n = 0;
    for (const p of this.entries.values()) n += p.data.length;
    return n;
  }

  set(name: string, shape: readonly number[], data: Float32Array): void {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new GraphError(`parameter '${name}': shape ${fmtShape(shape)} needs ${n} values, got ${data.length}`);
    this.entries.set(name, { shape: [...shape], data });
  }

  /** Replace the buffer of an existing parameter (same shape), e.g. after an optimizer step. */
  swap(name: string, data: Float32Array): Float32Array {
    const p = this.get(name);
    if (data.length !== p.data.length) throw new GraphError(`parameter '${name}': new buffer has ${data.length} values, expected ${p.data.length}`);
    const old = p.data;
    p.data = data;
    return old;
  }

  /** Declare a parameter: initialize it (seeded) if absent, else check its shape. */
  declare(name: string, shape: readonly number[], init: Init): Param {
    const have = this.entries.get(name);
    if (have) {
      if (have.shape.join(',') !== shape.join(',')) {
        throw new GraphError(`parameter '${name}': stored shape ${fmtShape(have.shape)} differs from the model's ${fmtShape(shape)}`);
      }
      return have;
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    switch (init.kind) {
      case 'normal':
        this.rng.fillNormal(data, init.mean ?? 0, init.std);
        break;
      case 'uniform':
        for (let i = 0; i < n; i++) data[i] = this.rng.range(-init.bound, init.bound);
        break;
      case 'ones':
        data.fill(1);
        break;
      case 'zeros':
        break;
    }
    const p = { shape: [...shape], data };
    this.entries.set(name, p);
    return p;
  }

  /** Deep copy (new buffers). */
  clone(): ParamStore {
    const c = new ParamStore(this.rng.fork());
    for (const [k, p] of this.entries) c.set(k, p.shape, p.data.slice());
    return c;
  }

  /**
   * In place: this <- this + alpha (other - this). alpha in [0,1] interpolates (EMA with
   * alpha = 1 - decay), alpha > 1 extrapolates (APO's momentum step), alpha = 1 copies.
   */
  mix(other: ParamStore, alpha: number): void {
    for (const name of this.names()) {
      const a = this.get(name).data;
      const b = other.get(name).data;
      if (a.length !== b.length) throw new GraphError(`mix: parameter '${name}' sizes differ (${a.length} vs ${b.length})`);
      for (let i = 0; i < a.length; i++) a[i] += alpha * (b[i] - a[i]);
    }
  }

  /** Copy values from another store with the same names and shapes into this store's buffers. */
  copyFrom(other: ParamStore): void {
    for (const name of this.names()) this.get(name).data.set(other.get(name).data);
  }
}

/**
 * A graph-building view of a store: `param(name, shape, init)` declares the parameter and returns
 * the graph input that carries it (one input per name, reused on repeated calls).
 */
export class ParamScope {
  readonly used = new Map<string, Tensor>();

  constructor(
    readonly g: Graph,
    readonly store: ParamStore,
  ) {}

  param(name: string, shape: readonly number[], init: Init): Tensor {
    const have = this.used.get(name);
    if (have) {
      if (have.shape.join(',') !== shape.join(',')) throw new GraphError(`parameter '${name}' used with shapes ${fmtShape(have.shape)} and ${fmtShape(shape)}`);
      return have;
    }
    this.store.declare(name, shape, init);
    const t = this.g.input(name, 'float32', shape);
    this.used.set(name, t);
    return t;
  }
}
