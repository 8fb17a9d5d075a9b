// Types of the generated module beside it (scripts/freeze-yardstick.ts).

/** A unit of the yardstick's work, bound to a database of its own; returns a value that depends on the work. */
export declare function createUnit(): () => number;
/** What a unit is (transactions, statements, rows). */
export declare const UNIT: string;
/** The commit whose engine the module holds. */
export declare const FROZEN_AT: string;
