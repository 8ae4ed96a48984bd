/** Types of the parts of bench/lib/processes.mjs the TypeScript tests use. */
import type { ChildProcess } from "node:child_process";
export interface ServerHandle {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  stop(): Promise<void>;
}
/** The project root (bench/ is in it). */
export const ROOT: string;
export function cleanEnv(home: string): NodeJS.ProcessEnv;
export function makeTempDir(): { dir: string; cleanup(): void };
export function spawnScript(script: string, args: string[], options: { env: NodeJS.ProcessEnv; nodeArgs?: string[] }): Promise<ServerHandle>;
