// Readable random tunnel names, like "brave-otter-4k2q": easy to say, hard to guess.

const ADJECTIVES = [
  "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring", "eager",
  "fancy", "gentle", "glad", "golden", "happy", "jolly", "keen", "lively", "lucky", "mellow",
  "merry", "misty", "noble", "polite", "proud", "quick", "quiet", "rapid", "shiny", "silent",
  "smart", "snowy", "solar", "steady", "sunny", "swift", "tidy", "vivid", "witty", "zesty",
];
const NOUNS = [
  "badger", "beacon", "canyon", "comet", "coral", "crane", "delta", "falcon", "fjord", "gecko",
  "harbor", "heron", "island", "koala", "lagoon", "lantern", "lynx", "maple", "meadow", "otter",
  "panda", "pebble", "pine", "puffin", "quartz", "raven", "reef", "river", "robin", "summit",
  "tiger", "tulip", "valley", "walrus", "willow", "wombat", "yak", "zebra", "orbit", "nebula",
];
const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

function pick<T>(list: readonly T[], byte: number): T {
  return list[byte % list.length] as T;
}

/** A fresh readable name: adjective-noun-xxxx, a valid DNS label. */
export function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const suffix = Array.from(bytes.subarray(2), (b) => pick([...ALPHABET], b)).join("");
  return `${pick(ADJECTIVES, bytes[0] ?? 0)}-${pick(NOUNS, bytes[1] ?? 0)}-${suffix}`;
}
