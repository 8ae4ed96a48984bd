/**
 * A secret value that cannot be printed by accident: string conversion, JSON and
 * `util.inspect` all yield the redacted form. Only `reveal()` gives the raw value, and only the
 * header policy calls it, at the moment the value goes on the wire.
 */
import { inspect } from "node:util";
import { redactToken } from "../policy/redact.js";

export class Secret {
  readonly #value: string;
  /** Where it came from, for messages: `env OPENROUTER_API_KEY` or `literal in config`. */
  readonly origin: string;

  constructor(value: string, origin: string) {
    this.#value = value;
    this.origin = origin;
  }

  reveal(): string {
    return this.#value;
  }

  get redacted(): string {
    return redactToken(this.#value);
  }

  toString(): string {
    return this.redacted;
  }

  toJSON(): string {
    return this.redacted;
  }

  [inspect.custom](): string {
    return `Secret(${this.redacted})`;
  }
}
