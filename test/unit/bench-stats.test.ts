import { max, median, min, ratio, summarize } from "../../bench/stats";

describe("benchmark statistics", () => {
  it("takes the middle value as the median of an odd number of samples", () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it("takes the mean of the two middle values as the median of an even number", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("has no median, minimum or maximum without samples", () => {
    expect([median([]), min([]), max([]), summarize([])]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("leaves values that are not finite out", () => {
    expect(summarize([3, Number.NaN, 1, Number.POSITIVE_INFINITY])).toEqual({ n: 2, median: 2, min: 1, max: 3 });
  });

  it("gives the range of the samples", () => {
    expect([min([7, 2, 9]), max([7, 2, 9])]).toEqual([2, 9]);
  });

  it("divides the package's median by the baseline's", () => {
    expect(ratio(115, 100)).toBeCloseTo(1.15, 10);
  });

  it("has no ratio to a zero or missing baseline", () => {
    expect([ratio(5, 0), ratio(5, undefined), ratio(undefined, 5)]).toEqual([undefined, undefined, undefined]);
  });
});
