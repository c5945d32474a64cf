// A real terminal for console tests: a detached tmux session of a fixed size on a tmux server of
// its own (never the user's), read with capture-pane and driven with send-keys.

import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

const ROOT = new URL("../..", import.meta.url).pathname;
let sessions = 0;

/** A shell word: single-quoted, so nothing in it is interpreted. */
const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

export type Terminal = {
  /** The screen's text, one string per row (`escapes` keeps colour and attribute codes). */
  screen: (o?: { escapes?: boolean }) => string[];
  /** Polls the screen until `match` holds for its text; fails with the last screen. */
  waitFor: (match: (text: string) => boolean, timeoutMs?: number) => Promise<string>;
  keys: (...keys: string[]) => void;
  resize: (width: number, height: number) => void;
  /** A tmux format of the pane, such as #{pane_title} or #{alternate_on}. */
  format: (format: string) => string;
  close: () => void;
};

/** Runs the built CLI with `args` in a new terminal; after it exits, the pane shows "EXITED <code>". */
export function terminal(args: string[], o: { width: number; height: number; env?: Record<string, string> }): Terminal {
  const socket = `porthole-e2e-${process.pid}-${sessions++}`;
  const tmux = (...a: string[]) => execFileSync("tmux", ["-L", socket, "-f", "/dev/null", ...a], { encoding: "utf8" });
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    TERM: "xterm-256color",
    PORTHOLE_CONFIG: "/nonexistent/porthole.json",
    ...o.env,
  };
  const command = ["env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, `${ROOT}bin/porthole.mjs`, ...args];
  // The pane stays after the CLI exits, so the test can see what it left on the screen.
  const shell = `cd ${quote(ROOT)} && ${command.map(quote).join(" ")}; echo EXITED $?; sleep 600`;
  tmux("new-session", "-d", "-s", "t", "-x", String(o.width), "-y", String(o.height), shell);
  // tmux leaves its socket file behind on kill-server; close() removes it.
  const socketPath = tmux("display-message", "-p", "#{socket_path}").trim();
  const screen: Terminal["screen"] = (c = {}) => tmux("capture-pane", "-p", ...(c.escapes ? ["-e"] : []), "-t", "t").split("\n");
  return {
    screen,
    waitFor: async (match, timeoutMs = 20_000) => {
      // A terminal announces nothing: polling its screen is the only way to see it change.
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = screen().join("\n");
        if (match(text)) return text;
        if (Date.now() > deadline) throw new Error(`the screen did not match within ${timeoutMs} ms; it showed:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    keys: (...keys) => void tmux("send-keys", "-t", "t", ...keys),
    resize: (width, height) => void tmux("resize-window", "-t", "t", "-x", String(width), "-y", String(height)),
    format: (format) => tmux("display-message", "-p", "-t", "t", format).trim(),
    close: () => {
      try {
        tmux("kill-server");
      } catch {
        // Already gone.
      }
      rmSync(socketPath, { force: true });
    },
  };
}
