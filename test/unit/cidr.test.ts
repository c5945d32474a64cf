import { describe, expect, it } from "vitest";
import { CidrError, cidrContains, formatCidr, formatIp, MAX_CIDR_CHARS, parseCidr, parseIp, unmap } from "../../worker/cidr";

const inRange = (cidr: string, ip: string) => cidrContains(parseCidr(cidr), parseIp(ip));

/** The message parseCidr throws for `text`, failing the test when it does not throw a CidrError. */
function cidrError(text: string): string {
  try {
    parseCidr(text);
  } catch (err) {
    expect(err).toBeInstanceOf(CidrError);
    return (err as Error).message;
  }
  throw new Error(`parseCidr(${JSON.stringify(text)}) did not throw`);
}

describe("parseIp and formatIp", () => {
  it.each([
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["203.0.113.9", "203.0.113.9"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["fe80::", "fe80::"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["::FFFF:0102:0304", "::ffff:1.2.3.4"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ])("reads %s as %s", (text, canonical) => {
    expect(formatIp(parseIp(text))).toBe(canonical);
  });

  it("gives the family as written, with IPv4 in its mapped place", () => {
    expect(parseIp("1.2.3.4")).toEqual({ family: 4, value: 0xffff01020304n });
    expect(parseIp("::ffff:1.2.3.4")).toEqual({ family: 6, value: 0xffff01020304n });
    expect(parseIp("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").value).toBe((1n << 128n) - 1n);
  });

  it("unmaps IPv4-mapped addresses only", () => {
    expect(unmap(parseIp("::ffff:1.2.3.4"))).toEqual(parseIp("1.2.3.4"));
    expect(unmap(parseIp("1.2.3.4"))).toEqual(parseIp("1.2.3.4"));
    expect(unmap(parseIp("::1.2.3.4"))).toEqual(parseIp("::1.2.3.4"));
    expect(unmap(parseIp("2001:db8::ffff:1.2.3.4"))).toEqual(parseIp("2001:db8::ffff:1.2.3.4"));
  });

  it.each([
    ["", "is not an IPv4 or IPv6 address"],
    ["localhost", "is not an IPv4 or IPv6 address"],
    ["256.1.1.1", 'invalid IPv4 part "256"'],
    ["01.2.3.4", 'invalid IPv4 part "01"'],
    ["1.2.3", "is not a dotted-quad IPv4 address"],
    ["1.2.3.4.5", "is not a dotted-quad IPv4 address"],
    [" 1.2.3.4", 'invalid IPv4 part " 1"'],
    ["1.2.3.-1", 'invalid IPv4 part "-1"'],
    ["1:2:3:4:5:6:7:8:9", "has 9 groups; an IPv6 address has 8"],
    ["1:2:3:4:5:6:7", "has 7 groups; an IPv6 address has 8"],
    ["1:2:3:4:5:6:7:8::", 'has 8 groups besides "::"'],
    ["1:2:3:4:5:6:7:1.2.3.4", "has 9 groups"],
    ["1::2::3", 'uses "::" more than once'],
    ["::::", 'uses "::" more than once'],
    [":::", 'invalid IPv6 group ""'],
    ["1:::2", 'invalid IPv6 group ""'],
    [":1::", 'invalid IPv6 group ""'],
    ["1::2:", 'invalid IPv6 group ""'],
    ["12345::", 'invalid IPv6 group "12345"'],
    ["g::", 'invalid IPv6 group "g"'],
    ["[::1]", 'invalid IPv6 group "["'],
    ["::1.2.3", "is not a dotted-quad IPv4 address"],
    ["1.2.3.4::", 'invalid IPv6 group "1.2.3.4"'],
    ["1.2.3.4:80", 'invalid IPv6 group "1.2.3.4"'],
    ["fe80::1%eth0", 'zone ids ("%eth0") are not allowed'],
    ["fe80::1%25eth0", "zone ids"],
  ])("refuses %j (%s)", (text, cause) => {
    expect(() => parseIp(text)).toThrow(CidrError);
    expect(() => parseIp(text)).toThrow(cause);
  });

  it(`refuses text longer than MAX_CIDR_CHARS (${MAX_CIDR_CHARS})`, () => {
    const longest = "0000:0000:0000:0000:0000:ffff:255.255.255.255";
    expect(formatIp(parseIp(longest))).toBe("::ffff:255.255.255.255");
    expect(parseCidr(`${longest}/128`).prefix).toBe(128);
    expect(() => parseIp(`${"0".repeat(MAX_CIDR_CHARS - 1)}::`)).toThrow(`longer than ${MAX_CIDR_CHARS} characters`);
  });
});

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8", 8],
    ["0.0.0.0/0", "0.0.0.0/0", 0],
    ["1.2.3.4/32", "1.2.3.4", 32],
    ["1.2.3.4", "1.2.3.4", 32],
    ["::/0", "::/0", 0],
    ["::1/128", "::1", 128],
    ["::1", "::1", 128],
    ["2001:DB8::/32", "2001:db8::/32", 32],
    ["::ffff:0:0/96", "::ffff:0.0.0.0/96", 96],
    ["::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", 104],
  ])("reads %s as %s", (text, canonical, prefix) => {
    const cidr = parseCidr(text);
    expect(formatCidr(cidr)).toBe(canonical);
    expect(cidr.prefix).toBe(prefix);
  });

  it("names the cause of a bad prefix", () => {
    expect(cidrError("10.0.0.0/33")).toBe("prefix length 33 is over 32 for IPv4");
    expect(cidrError("::/129")).toBe("prefix length 129 is over 128 for IPv6");
    expect(cidrError("10.0.0.0/")).toBe('prefix length "" is not a whole number');
    expect(cidrError("10.0.0.0/08")).toBe('prefix length "08" is not a whole number');
    expect(cidrError("10.0.0.0/-1")).toBe('prefix length "-1" is not a whole number');
    expect(cidrError("10.0.0.0/ 8")).toBe('prefix length " 8" is not a whole number');
    expect(cidrError("10.0.0.0/8/8")).toBe('prefix length "8/8" is not a whole number');
    expect(cidrError("fe80::%eth0/64")).toBe('zone ids ("%eth0") are not allowed');
  });

  it("refuses host bits under the prefix and names the network meant", () => {
    expect(cidrError("10.0.0.1/8")).toBe("host bits are set; the network is 10.0.0.0/8");
    expect(cidrError("2001:db8::1/32")).toBe("host bits are set; the network is 2001:db8::/32");
    expect(cidrError("1.2.3.4/0")).toBe("host bits are set; the network is 0.0.0.0/0");
  });
});

describe("cidrContains", () => {
  it("matches inside the range and not outside it", () => {
    expect(inRange("10.0.0.0/8", "10.0.0.0")).toBe(true);
    expect(inRange("10.0.0.0/8", "10.255.255.255")).toBe(true);
    expect(inRange("10.0.0.0/8", "11.0.0.0")).toBe(false);
    expect(inRange("10.0.0.0/8", "9.255.255.255")).toBe(false);
    expect(inRange("0.0.0.0/0", "255.255.255.255")).toBe(true);
    expect(inRange("1.2.3.4", "1.2.3.4")).toBe(true);
    expect(inRange("1.2.3.4", "1.2.3.5")).toBe(false);
    expect(inRange("::1/128", "::1")).toBe(true);
    expect(inRange("::1/128", "::2")).toBe(false);
    expect(inRange("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(inRange("2001:db8::/32", "2001:db9::")).toBe(false);
    expect(inRange("::/0", "ffff::1")).toBe(true);
  });

  it("treats IPv4 and its mapped IPv6 form as one address", () => {
    expect(inRange("1.2.3.0/24", "::ffff:1.2.3.4")).toBe(true);
    expect(inRange("1.2.3.0/24", "::ffff:102:304")).toBe(true);
    expect(inRange("::ffff:1.2.3.0/120", "1.2.3.4")).toBe(true);
    expect(inRange("::ffff:1.2.3.0/120", "1.2.4.4")).toBe(false);
    expect(inRange("::ffff:0:0/96", "1.2.3.4")).toBe(true);
    expect(inRange("::ffff:0:0/96", "::ffff:255.255.255.255")).toBe(true);
    expect(inRange("::ffff:0:0/96", "::1")).toBe(false);
    expect(inRange("::ffff:0:0/96", "2001:db8::1")).toBe(false);
    expect(inRange("::/0", "1.2.3.4")).toBe(true);
  });

  it("keeps IPv4 ranges away from other IPv6 addresses", () => {
    expect(inRange("0.0.0.0/0", "::1")).toBe(false);
    expect(inRange("0.0.0.0/0", "2001:db8::1")).toBe(false);
    // The deprecated IPv4-compatible form ::1.2.3.4 is not 1.2.3.4.
    expect(inRange("1.2.3.4", "::1.2.3.4")).toBe(false);
    expect(inRange("::1", "127.0.0.1")).toBe(false);
    expect(inRange("2001:db8::/32", "1.2.3.4")).toBe(false);
  });

  it.each([
    [4, "203.0.113.9"],
    [6, "2001:db8:85a3:8d3:1319:8a2e:370:7348"],
  ] as const)("draws the IPv%i boundary exactly at every prefix length", (family, address) => {
    const ip = parseIp(address);
    const bits = family === 4 ? 32 : 128;
    for (let prefix = 0; prefix <= bits; prefix++) {
      const hostBits = BigInt(bits - prefix);
      const network = (ip.value >> hostBits) << hostBits;
      const cidr = { family, value: network, prefix };
      expect(parseCidr(formatCidr(cidr))).toEqual(cidr);
      expect(cidrContains(cidr, ip)).toBe(true);
      // Flipping the last network bit leaves the range; flipping the first host bit stays inside.
      if (prefix > 0) expect(cidrContains(cidr, { family, value: ip.value ^ (1n << hostBits) })).toBe(false);
      if (prefix < bits) expect(cidrContains(cidr, { family, value: ip.value ^ (1n << (hostBits - 1n)) })).toBe(true);
    }
  });
});
