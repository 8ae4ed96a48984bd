/** Types of bench/lib/report.mjs, for the TypeScript tests. Results are the bench's JSON, loosely typed. */
export interface Target {
  name: string;
  value: unknown;
  limit: unknown;
  compare: "<=" | ">=";
  /** undefined: a figure was missing ("n/a"), never counted as a pass. */
  pass: boolean | undefined;
  text: string;
}
export function evaluateTargets(results: Record<string, any>): Target[];
export function formatReport(results: Record<string, any>, targets: Target[]): string;
