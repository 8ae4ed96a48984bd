/**
 * The live feed (DESIGN §11): store changes pushed to each open page as SSE. Bounded both
 * ways: at most `MAX_CLIENTS` pages at once (the oldest is closed for a new one), and a page
 * that reads slower than the relay writes is dropped once `MAX_BUFFERED_BYTES` wait for it (its
 * EventSource reconnects and reloads the lists), so no reader can make the relay hold memory.
 */
import type { ServerResponse } from "node:http";
import type { CaptureStore, StoreEvent } from "./store.js";

export const MAX_CLIENTS = 16;
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** A comment line now and then keeps idle proxies and browsers from closing the stream. */
const HEARTBEAT_MS = 15_000;
/** How long a dropped page's queued events may take to drain before its socket is cut. */
const DROP_GRACE_MS = 5_000;

export class EventFeed {
  private readonly clients = new Set<ServerResponse>();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly store: CaptureStore) {}

  get size(): number {
    return this.clients.size;
  }

  add(res: ServerResponse, headers: Record<string, string>): void {
    if (this.clients.size >= MAX_CLIENTS) this.drop(this.clients.values().next().value!);
    res.writeHead(200, { ...headers, "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive" });
    // Tells EventSource how soon to reconnect after a drop.
    res.write("retry: 1000\n\n");
    this.clients.add(res);
    res.on("close", () => this.remove(res));
    this.unsubscribe ??= this.store.subscribe((event) => this.broadcast(event));
    this.heartbeat ??= setInterval(() => this.send(": keep-alive\n\n"), HEARTBEAT_MS).unref();
  }

  /** End every stream (the relay is closing). */
  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private broadcast(event: StoreEvent): void {
    const data = event.type === "request" ? event.request : event.session;
    this.send(`event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private send(frame: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) this.drop(res);
      else res.write(frame);
    }
  }

  /**
   * Stop writing to a page: the stream ends cleanly once what is already queued is flushed (its
   * EventSource reconnects and reloads the lists), and is cut if the reader has not taken it by then.
   */
  private drop(res: ServerResponse): void {
    this.remove(res);
    res.end();
    setTimeout(() => res.destroy(), DROP_GRACE_MS).unref();
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
