// IPv4 and IPv6 addresses and CIDR ranges for the tunnel's allow-ip rule. Platform-neutral.
//
// Every address lives in one 128-bit space: an IPv4 address is its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d), and an IPv4 range /n is the mapped range /(96+n). So 1.2.3.4 and ::ffff:1.2.3.4
// are the same client whichever way the platform spells it, ::ffff:0:0/96 means every IPv4 address,
// and ::/0 means every address. Parsing is strict: ambiguous spellings (leading zeros in a dotted
// quad, zone ids, host bits set under the prefix) are refused rather than guessed at.

/** Longest text accepted as an address or range: a full IPv6 address with a dotted quad and a /128. */
export const MAX_CIDR_CHARS = 64;

/** One address, or the network address of a range, in the 128-bit space. */
export type IpAddress = { family: 4 | 6; value: bigint };

/** A range: its network address and its prefix length in its own family's bits (0..32 or 0..128). */
export type Cidr = IpAddress & { prefix: number };

/** Why a text is not an address or range; the message is the cause only, for the caller to frame. */
export class CidrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CidrError";
  }
}

const MAPPED_V4 = 0xffffn << 32n;
const ALL_128 = (1n << 128n) - 1n;
const DOTTED_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

function parseV4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) throw new CidrError(`"${text}" is not a dotted-quad IPv4 address`);
  let value = 0;
  for (const part of parts) {
    if (!DOTTED_PART.test(part) || Number(part) > 255) {
      throw new CidrError(`"${text}" has an invalid IPv4 part "${part}" (0-255, no leading zeros)`);
    }
    value = value * 256 + Number(part);
  }
  return value;
}

function parseGroups(text: string, whole: string): number[] {
  if (text === "") return [];
  const groups: number[] = [];
  for (const group of text.split(":")) {
    if (!HEX_GROUP.test(group)) throw new CidrError(`"${whole}" has an invalid IPv6 group "${group}"`);
    groups.push(Number.parseInt(group, 16));
  }
  return groups;
}

function parseV6(text: string): bigint {
  // A trailing dotted quad stands for the last two groups: ::ffff:1.2.3.4 is ::ffff:102:304.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  let body = text;
  if (tail.includes(".")) {
    const v4 = parseV4(tail);
    body = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) throw new CidrError(`"${text}" uses "::" more than once`);
  const head = parseGroups(halves[0]!, text);
  let groups = head;
  if (halves.length === 1) {
    if (head.length !== 8) throw new CidrError(`"${text}" has ${head.length} groups; an IPv6 address has 8`);
  } else {
    const rest = parseGroups(halves[1]!, text);
    const given = head.length + rest.length;
    if (given > 7) throw new CidrError(`"${text}" has ${given} groups besides "::"; at most 7 fit`);
    groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses one IPv4 or IPv6 address (no prefix). Throws CidrError naming the cause. */
export function parseIp(text: string): IpAddress {
  if (text.length > MAX_CIDR_CHARS) throw new CidrError(`the address is longer than ${MAX_CIDR_CHARS} characters`);
  const zone = text.indexOf("%");
  if (zone >= 0) throw new CidrError(`zone ids ("${text.slice(zone)}") are not allowed`);
  if (text.includes(":")) return { family: 6, value: parseV6(text) };
  if (text.includes(".")) return { family: 4, value: MAPPED_V4 | BigInt(parseV4(text)) };
  throw new CidrError(`"${text}" is not an IPv4 or IPv6 address`);
}

/** Parses "addr/prefix" or a bare address (a /32 or /128). Throws CidrError naming the cause. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ...ip, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(prefixText)) throw new CidrError(`prefix length "${prefixText}" is not a whole number`);
  const prefix = Number(prefixText);
  if (prefix > max) throw new CidrError(`prefix length ${prefix} is over ${max} for IPv${ip.family}`);
  const cidr: Cidr = { ...ip, prefix };
  const network = ip.value & mask(cidr);
  if (network !== ip.value) {
    throw new CidrError(`host bits are set; the network is ${formatCidr({ ...cidr, value: network })}`);
  }
  return cidr;
}

/** The 128-bit mask of a range's prefix. */
function mask(cidr: Cidr): bigint {
  const bits = BigInt(cidr.prefix + (cidr.family === 4 ? 96 : 0));
  return (ALL_128 << (128n - bits)) & ALL_128;
}

/** Whether the address lies in the range (in the shared 128-bit space). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  const m = mask(cidr);
  return (ip.value & m) === (cidr.value & m);
}

/** The IPv4 form of an IPv4-mapped IPv6 address (::ffff:1.2.3.4 → 1.2.3.4); any other address unchanged. */
export function unmap(ip: IpAddress): IpAddress {
  return ip.value >> 32n === 0xffffn ? { family: 4, value: ip.value } : ip;
}

/** The canonical text of an address: dotted quad for IPv4, RFC 5952 for IPv6 (mapped IPv4 as ::ffff:a.b.c.d). */
export function formatIp(ip: IpAddress): string {
  const low32 = Number(ip.value & 0xffffffffn);
  const quad = [low32 >>> 24, (low32 >>> 16) & 0xff, (low32 >>> 8) & 0xff, low32 & 0xff].join(".");
  if (ip.family === 4) return quad;
  if (ip.value >> 32n === 0xffffn) return `::ffff:${quad}`;
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // Compress the first longest run of two or more zero groups.
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/** The canonical text of a range; a single address (/32, /128) is written bare. */
export function formatCidr(cidr: Cidr): string {
  const full = cidr.prefix === (cidr.family === 4 ? 32 : 128);
  return full ? formatIp(cidr) : `${formatIp(cidr)}/${cidr.prefix}`;
}
