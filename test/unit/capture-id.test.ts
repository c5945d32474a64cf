// Capture ids: the store's primary key, and the order captures are listed and evicted in.

import { afterEach, describe, expect, it, vi } from "vitest";
import { newCaptureId } from "../../worker/recorder";

afterEach(() => vi.restoreAllMocks());

describe("newCaptureId", () => {
  it("gives distinct ids, in the order made, to a burst within one millisecond", () => {
    // The Workers clock does not move while an event runs: a busy tunnel makes many ids at one reading.
    vi.spyOn(Date, "now").mockReturnValue(1_800_000_000_000);
    const ids = Array.from({ length: 20_000 }, () => newCaptureId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}-[0-9a-f]{6}$/);
  });

  it("sorts an id of a later millisecond after every id of an earlier one", () => {
    const now = vi.spyOn(Date, "now").mockReturnValue(1_800_000_000_100);
    const earlier = Array.from({ length: 1000 }, () => newCaptureId());
    now.mockReturnValue(1_800_000_000_101);
    const later = newCaptureId();
    expect(earlier.every((id) => id < later)).toBe(true);
    expect(later.startsWith((1_800_000_000_101).toString(16).padStart(12, "0"))).toBe(true);
  });
});
