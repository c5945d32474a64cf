// End-to-end tests spawn the built CLI, so build it once before they start.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: new URL("../..", import.meta.url).pathname, stdio: "inherit" });
}
