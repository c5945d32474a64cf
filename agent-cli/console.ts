// The live console on a terminal, like ngrok's: tunnels, their state and a rolling list of requests,
// redrawn in the alternate screen. The terminal is always given back as it was: on stop, on Ctrl-C
// and on any exit, so a crash cannot leave the cursor hidden or the screen switched.

import type { AgentEvent } from "./agent";
import { ConsoleModel } from "./console-model";
import { renderConsole, span } from "./console-view";
import { fatalLine, type Printer } from "./output";

/** Console tunables. */
export const CONSOLE_DEFAULTS = {
  /** Events closer together than this are drawn once: a burst of requests must not flood the terminal. */
  redrawMs: 50,
  /** Countdowns and "online for" advance on this tick. */
  tickMs: 1000,
} as const;

/** Alternate screen, hidden cursor, no autowrap (a line cut one character too long must not scroll). */
const ENTER = "\x1b[?1049h\x1b[?25l\x1b[?7l";
const LEAVE = "\x1b[?7h\x1b[?25h\x1b[?1049l";

export type ConsoleOptions = {
  /** The relay as shown, such as "http://127.0.0.1:8787 (embedded local relay)". */
  relay: string;
  /** The embedded relay's token, which the user needs to log in to the inspector. */
  token?: string;
  out?: NodeJS.WriteStream;
  err?: NodeJS.WritableStream;
};

/** True when the console should draw: no --json, and stdout is a terminal that can take escapes. */
export function wantsConsole(p: Printer, out: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return !p.json && out.isTTY === true && env.TERM !== "dumb";
}

/** A tunnel the console shows; `inspector` is its inspector page URL. */
export type ConsoleTunnel = { name: string; target: string; inspector: string };

/** The console: add tunnels, feed it their agents' events, stop it to give the terminal back. */
export class TerminalConsole {
  private readonly model: ConsoleModel;
  private readonly out: NodeJS.WriteStream;
  private readonly err: NodeJS.WritableStream;
  private readonly fatal: Extract<AgentEvent, { event: "fatal" }>[] = [];
  private readonly color: boolean;
  private active = false;
  private ticker?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private readonly redraw = () => this.draw();
  private readonly restore = () => this.leave();

  constructor(o: ConsoleOptions) {
    this.out = o.out ?? process.stdout;
    this.err = o.err ?? process.stderr;
    this.model = new ConsoleModel(o.relay, Date.now(), o.token);
    this.color = !process.env.NO_COLOR && (this.out.hasColors?.() ?? false);
  }

  /** Shows a tunnel and returns the handler for its agent's events. */
  tunnel(t: ConsoleTunnel): (e: AgentEvent) => void {
    this.model.add(t, Date.now());
    this.schedule();
    return (e) => {
      if (e.event === "fatal") this.fatal.push(e);
      this.model.apply(t.name, e, Date.now());
      this.schedule();
    };
  }

  /** Switches to the alternate screen and starts drawing. */
  start(): this {
    if (this.active) return this;
    this.active = true;
    this.out.write(ENTER);
    this.out.on("resize", this.redraw);
    // Covers process.exit() from a signal handler and errors nobody caught.
    process.once("exit", this.restore);
    this.ticker = setInterval(this.redraw, CONSOLE_DEFAULTS.tickMs).unref();
    this.draw();
    return this;
  }

  /** Gives the terminal back, then prints what must outlive the screen: why a tunnel stopped, and a summary. */
  stop(): void {
    if (!this.active) return;
    this.leave();
    for (const e of this.fatal) this.err.write(`${fatalLine(e)}\n`);
    const c = this.model.counters;
    const names = [...this.model.tunnels.keys()].map((n) => `"${n}"`).join(", ");
    const requests = `${c.total} request${c.total === 1 ? "" : "s"}`;
    this.out.write(`porthole  stopped after ${span(Date.now() - this.model.startedAt)}: ${requests} through ${names}\n`);
  }

  private leave(): void {
    if (!this.active) return;
    this.active = false;
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    this.pending = undefined;
    this.out.off("resize", this.redraw);
    process.off("exit", this.restore);
    this.out.write(LEAVE);
  }

  private schedule(): void {
    if (!this.active || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.draw();
    }, CONSOLE_DEFAULTS.redrawMs).unref();
  }

  private draw(): void {
    if (!this.active) return;
    const lines = renderConsole(this.model, {
      width: this.out.columns || 80,
      height: this.out.rows || 24,
      color: this.color,
      now: Date.now(),
    });
    // Home, then each line cleared and rewritten in place: no full clear, so no flicker; one write per frame.
    this.out.write(`\x1b[H${lines.map((l) => `\x1b[2K${l}`).join("\r\n")}\x1b[J`);
  }
}

/** A started console for several tunnels (porthole start), or undefined when stdout is no terminal or --json was given. */
export function startConsole(
  p: Printer,
  o: ConsoleOptions & { tunnels: ConsoleTunnel[] },
): { show: (name: string, e: AgentEvent) => void; stop: () => void } | undefined {
  if (!wantsConsole(p, o.out)) return undefined;
  const screen = new TerminalConsole(o);
  const handlers = new Map(o.tunnels.map((t) => [t.name, screen.tunnel(t)]));
  screen.start();
  return { show: (name, e) => handlers.get(name)?.(e), stop: () => screen.stop() };
}
