/**
 * Reading a response for people (DESIGN §11): SSE text split into events, and the events (or a
 * JSON body) assembled into the text, thinking and tool calls they carry. Pure functions over
 * text, so they are tested by tables.
 *
 * Formats, told apart by field names:
 * - Anthropic Messages: `content_block_start` (a `tool_use` block names the tool), then
 *   `content_block_delta` with `text_delta`, `thinking_delta` or `input_json_delta`;
 *   `message_delta.delta.stop_reason`. JSON: `content[]` of `text`, `thinking`, `tool_use` blocks.
 * - OpenAI chat completions: `choices[0].delta.content` and `delta.tool_calls[i]` (name and id in
 *   the first delta of each index, `function.arguments` in pieces); `finish_reason`. JSON:
 *   `choices[0].message`.
 */
import type { AssembledResponse, ToolCall } from "./types.js";

export interface ParsedEvent {
  event?: string;
  data: string;
  /** Offset in the text just after the event's blank line (to find when it arrived). */
  end: number;
}

/** Split SSE text into events (WHATWG HTML §9.2.6: lines end in CRLF, LF or CR; data lines join with LF). */
export function parseSse(text: string): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  let event: string | undefined;
  let data: string[] = [];
  let at = 0;
  const line = /([^\r\n]*)(\r\n|\r|\n|$)/y;
  while (at < text.length) {
    line.lastIndex = at;
    const m = line.exec(text);
    if (!m || m[0].length === 0) break;
    at += m[0].length;
    const content = m[1]!;
    if (content === "") {
      if (data.length > 0 || event !== undefined) events.push({ ...(event !== undefined ? { event } : {}), data: data.join("\n"), end: at });
      event = undefined;
      data = [];
      continue;
    }
    if (content.startsWith(":")) continue;
    const colon = content.indexOf(":");
    const field = colon === -1 ? content : content.slice(0, colon);
    let value = colon === -1 ? "" : content.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  // An event cut off by the end of the stream (or of what was kept) is still worth showing.
  if (data.length > 0) events.push({ ...(event !== undefined ? { event } : {}), data: data.join("\n"), end: text.length });
  return events;
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

class Assembler {
  text = "";
  thinking = "";
  stopReason: string | undefined;
  /** Tool calls by content-block index (Anthropic) or tool_calls index (OpenAI). */
  private readonly tools = new Map<string, ToolCall>();

  tool(key: string, init: { id?: string | undefined; name?: string | undefined }): ToolCall {
    let call = this.tools.get(key);
    if (!call) {
      call = { name: init.name ?? "", input: "" };
      if (init.id !== undefined) call.id = init.id;
      this.tools.set(key, call);
    } else {
      if (init.name) call.name = init.name;
      if (init.id !== undefined && call.id === undefined) call.id = init.id;
    }
    return call;
  }

  result(): AssembledResponse {
    const out: AssembledResponse = { text: this.text, thinking: this.thinking, toolCalls: [...this.tools.values()] };
    if (this.stopReason !== undefined) out.stopReason = this.stopReason;
    return out;
  }

  anthropicEvent(message: Json): void {
    const type = message.type;
    if (type === "content_block_start") {
      const block = asObject(message.content_block);
      if (block?.type === "tool_use" || block?.type === "server_tool_use") {
        this.tool(`a${String(message.index)}`, { id: str(block.id), name: str(block.name) });
      } else if (block?.type === "text" && typeof block.text === "string") {
        this.text += block.text;
      }
    } else if (type === "content_block_delta") {
      const delta = asObject(message.delta);
      if (delta?.type === "text_delta") this.text += str(delta.text) ?? "";
      else if (delta?.type === "thinking_delta") this.thinking += str(delta.thinking) ?? "";
      else if (delta?.type === "input_json_delta") this.tool(`a${String(message.index)}`, {}).input += str(delta.partial_json) ?? "";
    } else if (type === "message_delta") {
      const reason = str(asObject(message.delta)?.stop_reason);
      if (reason) this.stopReason = reason;
    }
  }

  openaiChunk(chunk: Json): void {
    const choice = asObject(Array.isArray(chunk.choices) ? chunk.choices[0] : undefined);
    if (!choice) return;
    const delta = asObject(choice.delta);
    if (delta) {
      this.text += str(delta.content) ?? "";
      this.thinking += str(delta.reasoning_content) ?? str(delta.reasoning) ?? "";
      if (Array.isArray(delta.tool_calls)) {
        for (const raw of delta.tool_calls) {
          const call = asObject(raw);
          if (!call) continue;
          const fn = asObject(call.function);
          this.tool(`o${String(call.index ?? 0)}`, { id: str(call.id), name: str(fn?.name) }).input += str(fn?.arguments) ?? "";
        }
      }
    }
    const reason = str(choice.finish_reason);
    if (reason) this.stopReason = reason;
  }
}

/** Text, thinking and tool calls from the events of a streamed response. */
export function assembleEvents(events: ReadonlyArray<{ event?: string | undefined; data: string }>): AssembledResponse {
  const a = new Assembler();
  for (const { data } of events) {
    if (data === "[DONE]") continue;
    const message = asObject(parseJson(data));
    if (!message) continue;
    if (typeof message.type === "string") a.anthropicEvent(message);
    else if ("choices" in message) a.openaiChunk(message);
  }
  return a.result();
}

/** The same from a whole JSON response body; undefined when it is no message we know. */
export function assembleJson(text: string): AssembledResponse | undefined {
  const body = asObject(parseJson(text));
  if (!body) return undefined;
  const a = new Assembler();
  if (Array.isArray(body.content)) {
    body.content.forEach((raw, i) => {
      const block = asObject(raw);
      if (block?.type === "text") a.text += str(block.text) ?? "";
      else if (block?.type === "thinking") a.thinking += str(block.thinking) ?? "";
      else if (block?.type === "tool_use" || block?.type === "server_tool_use") {
        a.tool(`a${i}`, { id: str(block.id), name: str(block.name) }).input = JSON.stringify(block.input ?? {});
      }
    });
    a.stopReason = str(body.stop_reason);
    return a.result();
  }
  const choice = asObject(Array.isArray(body.choices) ? body.choices[0] : undefined);
  const message = asObject(choice?.message);
  if (!message) return undefined;
  a.text = str(message.content) ?? "";
  a.thinking = str(message.reasoning_content) ?? "";
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((raw, i) => {
      const call = asObject(raw);
      const fn = asObject(call?.function);
      a.tool(`o${i}`, { id: str(call?.id), name: str(fn?.name) }).input = str(fn?.arguments) ?? "";
    });
  }
  a.stopReason = str(choice?.finish_reason);
  return a.result();
}
