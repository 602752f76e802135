import { withoutUndefined } from "../../provider/runtime";

// The engine's own serialisation of dynamic resources' properties.
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [require.resolve("@pulumi/pulumi")] })) as {
  Struct: { fromJavaScript(v: Record<string, unknown>): unknown };
};

describe("properties handed to the engine", () => {
  const props = { name: "test-disk", runtimeDrift: undefined, status: { ha1: { role: "Primary", splitBrain: undefined } }, list: [1, undefined, { a: undefined }] };

  it("are refused by the engine's serialisation when they hold undefined", () => {
    expect(() => Struct.fromJavaScript(props)).toThrow(/Unexpected struct type/);
  });

  it("leave undefined properties out and turn undefined list items into null", () => {
    expect(withoutUndefined(props)).toEqual({ name: "test-disk", status: { ha1: { role: "Primary" } }, list: [1, null, {}] });
    expect(() => Struct.fromJavaScript(withoutUndefined(props))).not.toThrow();
  });
});
