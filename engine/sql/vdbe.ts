// The statement executor (the "VDBE" of M10). A connection keeps one and
// reuses it between statements; its registers are reset, not reallocated.

import { EngineError } from '../errors.ts';
import type { Operand } from './parse.ts';
import type { Program } from './compile.ts';

/** What the executor needs from a transaction. */
export interface PageAccess {
  getNumber(pgno: number, offset: number): number;
  setNumber(pgno: number, offset: number, value: number): void;
}

export class Vdbe {
  private readonly regs = new Float64Array(16);
  constructor(readonly schemaGeneration: number) {}

  reset(): void {
    this.regs.fill(0);
  }

  run(p: Program, params: readonly number[], io: PageAccess): number {
    if (params.length < p.params) throw new EngineError('misuse', `statement takes ${p.params} parameters, got ${params.length}`, {});
    const r = this.regs;
    switch (p.op) {
      case 'select':
        r[0] = io.getNumber(this.page(p.page, params), p.offset);
        return r[0]!;
      case 'sum': {
        const to = this.page(p.to, params);
        r[0] = 0;
        for (let pg = this.page(p.from, params); pg < to; pg++) r[0] += io.getNumber(pg, p.offset);
        return r[0]!;
      }
      case 'assign':
        io.setNumber(this.page(p.page, params), p.offset, val(p.value, params));
        return 1;
      case 'add': {
        const pg = this.page(p.page, params);
        r[0] = io.getNumber(pg, p.source) + p.sign * val(p.delta, params);
        io.setNumber(pg, p.offset, r[0]!);
        return 1;
      }
    }
  }

  private page(o: Operand, params: readonly number[]): number {
    const n = val(o, params);
    if (!Number.isInteger(n) || n < 1) throw new EngineError('misuse', `page number must be an integer >= 1, got ${n}`, {});
    return n;
  }
}

function val(o: Operand, params: readonly number[]): number {
  return o.kind === 'lit' ? o.value : params[o.index]!;
}
