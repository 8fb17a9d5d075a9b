// Types of the generated module beside it (scripts/freeze-yardstick.ts): the
// engine's exports as they were frozen (typed as today's engine: a harness that
// needs more of the engine than the frozen one has must freeze it again), and
// the yardstick's unit.

export * from '../../../engine/index.ts';
/** A unit of the yardstick's work, bound to a database of its own; returns a value that depends on the work. */
export declare function createUnit(): () => number;
/** What a unit is (transactions, statements, rows). */
export declare const UNIT: string;
/** The last commit that changed the engine or the unit frozen in the module. */
export declare const FROZEN_AT: string;
