// The local relay in a process of its own, for a CLI whose Node is too old for wrangler. relay.ts starts this
// script under a newer Node; it takes its options over IPC, answers with the relay's URL, and stops when told to
// or when the CLI's process goes away (the IPC channel closes), so no relay outlives its CLI.

import { type FromRelayChild, type LocalRelay, startInProcess, type ToRelayChild } from "./relay";

let starting: Promise<LocalRelay | undefined> | undefined;
let stopping = false;

/** Sends to the CLI; resolves once the message is written, so an exit right after cannot lose it. */
function send(message: FromRelayChild): Promise<void> {
  return new Promise((resolve) => (process.connected && process.send ? process.send(message, undefined, {}, () => resolve()) : resolve()));
}

async function start(message: ToRelayChild & { type: "start" }): Promise<LocalRelay | undefined> {
  try {
    const relay = await startInProcess(message.options);
    await send({ type: "ready", url: relay.url });
    return relay;
  } catch (err) {
    await send({ type: "error", message: (err as Error).message });
    process.exitCode = 1;
    void stop();
    return undefined;
  }
}

/** Stops the relay (once it has started) and exits. */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const relay = await starting;
  await relay?.stop();
  process.exit(process.exitCode ?? 0);
}

process.on("message", (message: ToRelayChild) => {
  if (message.type === "start" && starting === undefined) starting = start(message);
  else if (message.type === "stop") void stop();
});
process.on("disconnect", () => void stop());
