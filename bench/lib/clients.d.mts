/** Types of the parts of bench/lib/clients.mjs the TypeScript tests use. */
import type { Client } from "undici";
export class EventTimer {
  constructor(onEvent: (event: { sentAt: number; arrived: number; index: number }) => void);
  events: number;
  push(chunk: Buffer): void;
}
export function connect(url: string, options?: Record<string, unknown>): Client;
export function stallCase(
  client: Client,
  mockUrl: string,
  options: { id: string; events?: number; timeoutMs?: number },
): Promise<{ delivered: boolean; firstEventMs: number | undefined; heldWhileFirstArrived: number; events: number; error: string | undefined }>;
