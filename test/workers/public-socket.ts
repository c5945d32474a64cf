// The public end of a tunnelled WebSocket, as a browser or app would hold it.

import { onTestFinished } from "vitest";
import { type Closed, closeQuietly, Mailbox, onClose, WAIT_MS, within } from "./helpers";

/** Records a public socket's messages and close, so a test can await them. */
export class PublicSocket {
  private readonly messages = new Mailbox<string | ArrayBuffer>();
  readonly closed: Promise<Closed>;

  private constructor(
    readonly ws: WebSocket,
    readonly response: Response,
  ) {
    ws.binaryType = "arraybuffer";
    this.closed = onClose(ws, ({ code, reason }) => this.messages.end(new Error(`the public socket closed (${code} ${reason})`)));
    ws.addEventListener("message", (e) => this.messages.push(e.data as string | ArrayBuffer));
    ws.accept();
    onTestFinished(() => closeQuietly(ws, 1000, "test over"));
  }

  /** Wraps an upgrade response; throws unless it is a 101 with a socket. */
  static async from(response: Promise<Response>): Promise<PublicSocket> {
    const res = await within(response, WAIT_MS, "the upgrade response");
    if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade answered ${res.status}: ${await res.text()}`);
    return new PublicSocket(res.webSocket, res);
  }

  /** Takes the next message, waiting for it if needed. */
  next(ms = WAIT_MS): Promise<string | ArrayBuffer> {
    return this.messages.take(() => true, ms, "a public WebSocket message");
  }

  closeEvent(ms = WAIT_MS): Promise<Closed> {
    return within(this.closed, ms, "the public socket to close");
  }
}
