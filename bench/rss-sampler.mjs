// Worker thread that samples the resident memory of process trees every ~50 ms, so sampling keeps
// its pace while the main thread is busy hashing a download. The main thread asks for the peak
// within a time window.
import { parentPort, workerData } from "node:worker_threads";
import { memoryOf, processTree } from "./procs.mjs";

const { roots, intervalMs, maxSamples } = workerData; // roots: { [group]: pid }
const samples = []; // { t, groups: { [group]: { [pid]: { comm, rssKiB } } } }

function sample() {
  const groups = {};
  for (const [group, root] of Object.entries(roots)) {
    const procs = {};
    for (const pid of processTree(root)) {
      const m = memoryOf(pid);
      if (m) procs[pid] = m;
    }
    groups[group] = procs;
  }
  samples.push({ t: Date.now(), groups });
  if (samples.length > maxSamples) samples.shift();
}

/** Per group, over the samples in [from, to]: peak summed RSS, peak summed workerd RSS, and each process's peak. */
function peak(from, to) {
  const out = {};
  for (const group of Object.keys(roots)) {
    const acc = { samples: 0, peakKiB: 0, peakRuntimeKiB: 0, perProcessPeakKiB: {}, comm: {} };
    for (const s of samples) {
      if (s.t < from || s.t > to) continue;
      acc.samples += 1;
      let sum = 0;
      let runtime = 0;
      for (const m of Object.values(s.groups[group] ?? {})) {
        sum += m.rssKiB;
        if (m.comm === "workerd") runtime += m.rssKiB;
        acc.perProcessPeakKiB[m.pid] = Math.max(acc.perProcessPeakKiB[m.pid] ?? 0, m.rssKiB);
        acc.comm[m.pid] = m.comm;
      }
      acc.peakKiB = Math.max(acc.peakKiB, sum);
      acc.peakRuntimeKiB = Math.max(acc.peakRuntimeKiB, runtime);
    }
    out[group] = acc;
  }
  return out;
}

sample();
const timer = setInterval(sample, intervalMs);
parentPort.on("message", (m) => {
  if (m.cmd === "peak") parentPort.postMessage({ id: m.id, result: peak(m.from, m.to) });
  if (m.cmd === "stop") {
    clearInterval(timer);
    parentPort.close();
  }
});
