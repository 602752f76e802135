import { failoverBreakdown, failoverTimeline, longestGap, parseShortUnix, pingReplyTimes } from "../../bench/timeline";

const journal = [
  "1000.500000 ha2.domain.local heartbeat[901]: WARN: node ha1.domain.local: is dead",
  "1001.000000 ha2.domain.local heartbeat[901]: info: Link ha1.domain.local:xenbr0 dead.",
  "1009.250000 ha2.domain.local ResourceManager(default)[1203]: info: Running /etc/ha.d/resource.d/xendomainsHA1  start",
  "1027.000000 ha2.domain.local xendomainsHA1[1300]: starting vm0: the peer answers neither over SSH nor over DRBD; it is presumed dead",
  "1027.100000 ha2.domain.local xendomainsHA1[1301]: starting vm0 from /etc/xen/vm0.cfg",
  "not a journal line",
].join("\n");

describe("a failover read from the survivor's journal", () => {
  it("reads identifiers and messages of journalctl's short-unix lines", () => {
    expect(parseShortUnix(journal)[2]).toEqual({ at: 1009.25, ident: "ResourceManager(default)", message: "info: Running /etc/ha.d/resource.d/xendomainsHA1  start" });
  });

  it("finds when the peer was declared dead, the resource script started and the guest's start was decided", () => {
    expect(failoverTimeline(parseShortUnix(journal), "ha1.domain.local", "xendomainsHA1", "vm0")).toEqual({ declaredDeadAt: 1000.5, scriptStartedAt: 1009.25, startDecidedAt: 1027.1 });
  });

  it("breaks the time from kill to answer into detection, take-over, checks and start", () => {
    const t = failoverTimeline(parseShortUnix(journal), "ha1.domain.local", "xendomainsHA1", "vm0");
    const b = failoverBreakdown(990, 1060, t);
    expect([b.detectSeconds, b.takeoverSeconds, b.checksSeconds, b.startSeconds].map((x) => Number(x!.toFixed(2)))).toEqual([10.5, 8.75, 17.85, 32.9]);
  });

  it("counts the plain resource script's time from its start when it logs no decision", () => {
    const t = failoverTimeline(parseShortUnix(journal), "ha1.domain.local", "xendomainsHA1", "other");
    expect([t.startDecidedAt, failoverBreakdown(990, 1060, t).startSeconds]).toEqual([undefined, 50.75]);
  });
});

describe("the gap in a guest's answers", () => {
  const ping = [
    "PING 10.1.1.50 (10.1.1.50) 56(84) bytes of data.",
    "[2000.000000] 64 bytes from 10.1.1.50: icmp_seq=1 ttl=64 time=0.4 ms",
    "[2000.200000] 64 bytes from 10.1.1.50: icmp_seq=2 ttl=64 time=0.4 ms",
    "[2003.700000] 64 bytes from 10.1.1.50: icmp_seq=19 ttl=64 time=0.9 ms",
    "[2003.900000] 64 bytes from 10.1.1.50: icmp_seq=20 ttl=64 time=0.5 ms",
  ].join("\n");

  it("reads the reply times of ping -D", () => {
    expect(pingReplyTimes(ping)).toEqual([2000, 2000.2, 2003.7, 2003.9]);
  });

  it("is the longest time between two answers", () => {
    expect(longestGap(1999.9, pingReplyTimes(ping), 2004)).toBeCloseTo(3.5, 6);
  });

  it("runs to the pinger's end when the guest never answers again", () => {
    expect(longestGap(1999.9, [2000, 2000.2], 2030)).toBeCloseTo(29.8, 6);
  });
});
