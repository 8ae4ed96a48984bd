/** Types of bench/profile.mjs, for the TypeScript tests. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }; children?: number[] }>;
  startTime?: number;
  endTime?: number;
  samples?: number[];
  timeDeltas?: number[];
}
export interface ProfileSummary {
  totalMs: number;
  functions: Array<{ name: string; where: string; selfMs: number; share: number }>;
  categories: Array<{ category: string; selfMs: number; share: number }>;
  distFiles: Array<{ file: string; selfMs: number; share: number }>;
  distInclusive: Array<{ name: string; totalMs: number; share: number }>;
}
export function categoryOf(url: string, functionName: string): string;
export function summariseProfile(profile: CpuProfile, top?: number): ProfileSummary;
export function formatProfile(summary: ProfileSummary): string;
