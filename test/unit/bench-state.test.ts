import { resourcesPerEndpoint } from "../../bench/state";

const conn = (port: number) => ({ host: "127.0.0.1", port, user: "root", privateKey: "KEY" });
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) });

describe("resources per host in an exported stack", () => {
  it("counts each custom resource once per host it holds a connection to, secrets opened, providers left out", () => {
    const deployment = {
      resources: [
        { urn: "s", type: "pulumi:pulumi:Stack", custom: false },
        { urn: "p", type: "pulumi:providers:pulumi-nodejs", custom: true, inputs: { connection: conn(2221) } },
        { urn: "vg1", type: "pulumi-nodejs:dynamic/xenha:VolumeGroup", custom: true, inputs: { connection: secret(conn(2221)) }, outputs: { connection: secret(conn(2221)) } },
        { urn: "dom", type: "pulumi-nodejs:dynamic/xenha:XenDomU", custom: true, inputs: { hosts: secret([{ name: "ha1", connection: conn(2221) }, { name: "ha2", connection: conn(2222) }]) } },
        { urn: "cluster", type: "pulumi-xen-ha:index:TwoNodeXenHa", custom: false, inputs: { connection: conn(2222) } },
      ],
    };
    expect(Object.fromEntries(resourcesPerEndpoint(deployment))).toEqual({ "127.0.0.1:2221": 2, "127.0.0.1:2222": 1 });
  });
});
