/** Three projects: pure unit tests, tests that need the real Pulumi engine, and tests on the QEMU lab. */
const tsJest = ["ts-jest", { tsconfig: "test/tsconfig.json" }];
const common = { testEnvironment: "node", transform: { "^.+\\.ts$": tsJest } };
module.exports = {
  globalSetup: "<rootDir>/test/support/global-setup.js",
  testSequencer: "<rootDir>/test/support/lab-sequencer.js",
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.test.ts"] },
    { ...common, displayName: "lab", testMatch: ["<rootDir>/test/lab/**/*.test.ts"] },
  ],
};
