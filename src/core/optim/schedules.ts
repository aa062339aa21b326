// Learning-rate schedules: functions of the 0-based step returning the learning rate.
export type Schedule = (step: number) => number;

export function constantSchedule(lr: number): Schedule {
  return () => lr;
}

/** Linear warmup from 0 to lr over `warmup` steps, then `after` (default constant lr). */
export function warmupSchedule(lr: number, warmup: number, after: Schedule = constantSchedule(lr)): Schedule {
  return (t) => (t < warmup ? (lr * (t + 1)) / warmup : after(t));
}

/** Warmup then cosine decay to minLr at `total` steps (HF get_cosine_schedule_with_warmup when minLr = 0). */
export function cosineSchedule(lr: number, total: number, warmup = 0, minLr = 0): Schedule {
  return (t) => {
    if (t < warmup) return (lr * t) / Math.max(1, warmup);
    const p = Math.min(1, (t - warmup) / Math.max(1, total - warmup));
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
  };
}

/** Warmup then linear decay to minLr at `total` steps (HF get_linear_schedule_with_warmup when minLr = 0). */
export function linearSchedule(lr: number, total: number, warmup = 0, minLr = 0): Schedule {
  return (t) => {
    if (t < warmup) return (lr * t) / Math.max(1, warmup);
    const p = Math.min(1, (t - warmup) / Math.max(1, total - warmup));
    return lr + (minLr - lr) * p;
  };
}
