// The porthole command: parses arguments and hands them to the command. Exit codes: 0 done,
// 1 failed (the message says why), 2 a usage mistake, 130 interrupted twice.

import { parseArgs } from "node:util";
import { AgentFatalError } from "./agent";
import { runCaptures, runReplay } from "./captures";
import { runDeploy } from "./deploy-command";
import { runDoctor } from "./doctor";
import { OPTIONS, UsageError } from "./flags";
import { COMMAND_HELP, overview, VERSION } from "./help";
import { runHttp } from "./http-command";
import { runMcp } from "./mcp-command";
import { printer } from "./output";
import { runRelay } from "./relay-command";
import { runStart } from "./start-command";
import { runStatus } from "./status";

/** Runs the CLI with the given arguments (without node and the script path). */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  // Everything after the first "--" is the command line porthole mcp runs, never porthole's own arguments.
  const dash = argv.indexOf("--");
  const commandLine = dash < 0 ? undefined : argv.slice(dash + 1);
  try {
    parsed = parseArgs({ args: dash < 0 ? argv : argv.slice(0, dash), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`porthole: ${(err as Error).message}\nRun "porthole --help" for usage.\n`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const p = printer(!!flags.json);
  const [command, ...rest] = positionals;
  if (flags.version || flags.help || command === undefined || command === "help") {
    const asked = command === "help" ? rest[0] : command;
    const topic = asked && /^\d+$/.test(asked) ? "http" : asked;
    process.stdout.write(flags.version ? `${VERSION}\n` : ((topic && COMMAND_HELP[topic]) ?? overview()));
    return 0;
  }
  try {
    if (commandLine !== undefined && command !== "mcp")
      throw new UsageError('"--" separates the command of "porthole mcp"; other commands take no command line.');
    if (command === "http") await runHttp(rest[0], flags, p);
    else if (command === "relay") await runRelay(flags, p);
    else if (command === "deploy") await runDeploy(rest, flags, p);
    else if (command === "start") await runStart(rest, flags, p);
    else if (command === "captures") await runCaptures(rest, flags, { printer: p, usage: (m) => new UsageError(m) });
    else if (command === "replay") await runReplay(rest, flags, { printer: p, usage: (m) => new UsageError(m) });
    else if (command === "status") return await runStatus(rest, flags, p);
    else if (command === "doctor") return await runDoctor(rest, flags, p);
    else if (command === "mcp")
      await runMcp(rest, commandLine, flags, { printer: p, usage: (m) => new UsageError(m), expose: (t, x) => runHttp(t, flags, p, x) });
    else if (/^\d+$/.test(command ?? "") && rest.length === 0) await runHttp(command, flags, p);
    else throw new UsageError(`Unknown command "${command}". Run "porthole --help" for usage.`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      p.error(`porthole: ${err.message}`);
      return 2;
    }
    // The agent already printed its fatal event; other errors are printed here, stack only with --verbose.
    if (!(err instanceof AgentFatalError)) {
      p.error(`porthole: ${flags.verbose && err instanceof Error ? err.stack : (err as Error).message}`);
    }
    return 1;
  }
}
