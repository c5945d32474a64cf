// Summarises the agent's V8 CPU profiles (node --cpu-prof) written during `npm run bench -- --profile`:
// self time per function and per source file, so the hot path can be read without DevTools.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

/** Self time (ms) per function and per file over every .cpuprofile in `dir`, largest first. */
export function summariseProfiles(dir, top = 15, depth = 8) {
  const byFunction = new Map();
  const byFile = new Map();
  const byStack = new Map();
  let totalMs = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const frame = (id) => {
      const { functionName, url, lineNumber } = nodes.get(id).callFrame;
      return `${functionName || "(anonymous)"}${url ? ` ${basename(url)}:${lineNumber + 1}` : ""}`;
    };
    const self = new Map();
    // timeDeltas[i] is the time before samples[i]; attribute it to that sample's node.
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i];
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    }
    for (const [id, ms] of self) {
      const { functionName, url, lineNumber } = nodes.get(id).callFrame;
      const where = url ? `${basename(url)}:${lineNumber + 1}` : "";
      const fn = `${functionName || "(anonymous)"} ${where}`.trim();
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
      const f = url ? basename(url) : functionName;
      // Natives (socket writes, GC) say little alone: the frames above them say who called.
      const chain = [fn];
      for (let up = parent.get(id); up !== undefined && chain.length < depth; up = parent.get(up)) chain.push(frame(up));
      const stack = chain.join(" < ");
      byStack.set(stack, (byStack.get(stack) ?? 0) + ms);
      byFile.set(f, (byFile.get(f) ?? 0) + ms);
      if (fn !== "(idle)") totalMs += ms;
    }
  }
  const rank = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Number(ms.toFixed(1)), pct: Number(((100 * ms) / totalMs).toFixed(1)) }));
  byFunction.delete("(idle)");
  byFile.delete("(idle)");
  for (const k of byStack.keys()) if (k.startsWith("(idle)")) byStack.delete(k);
  return { files, busyMs: Number(totalMs.toFixed(1)), byFunction: rank(byFunction), byFile: rank(byFile), byStack: rank(byStack) };
}

/** The summary as text lines. */
export function profileLines(s) {
  const out = [
    `Agent CPU profile: ${s.files.length} file(s), ${s.busyMs} ms busy (startup included; percentages of busy time)`,
    "  top self time by function:",
  ];
  for (const x of s.byFunction) out.push(`    ${String(x.pct).padStart(5)}%  ${String(x.ms).padStart(8)} ms  ${x.name}`);
  out.push("  top self time by stack (callee < callers):");
  for (const x of s.byStack) out.push(`    ${String(x.pct).padStart(5)}%  ${String(x.ms).padStart(8)} ms  ${x.name}`);
  out.push("  by file:");
  for (const x of s.byFile) out.push(`    ${String(x.pct).padStart(5)}%  ${String(x.ms).padStart(8)} ms  ${x.name}`);
  return out;
}
