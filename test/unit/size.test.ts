import { formatBytes, parseSize, roundUpToExtent } from "../../provider/lvm/size";

describe("sizes", () => {
  it.each([
    ["5G", 5 * 1024 ** 3],
    ["5Gb", 5 * 1024 ** 3],
    ["384M", 384 * 1024 ** 2],
    ["1GiB", 1024 ** 3],
    ["512", 512 * 1024 ** 2],
    [512, 512 * 1024 ** 2],
    ["4096B", 4096],
    ["1.5G", 1.5 * 1024 ** 3],
  ])("reads %j as %d bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["", "five", "-1G", "5X", "1e3G", " 5G", "2P"])("rejects %j", (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  it("rounds a request up to whole extents as LVM allocates it", () => {
    expect(roundUpToExtent(383 * 1024 ** 2 + 1, 4 * 1024 ** 2)).toBe(384 * 1024 ** 2);
  });

  it("prints sizes in the largest exact binary unit", () => {
    expect(formatBytes(5 * 1024 ** 3)).toBe("5 GiB");
  });
});
