// Narrowing the untyped workerData a test worker receives.

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function num(d: Record<string, unknown>, key: string): number {
  const v = d[key];
  if (typeof v !== 'number') throw new Error(`workerData.${key} must be a number`);
  return v;
}
