/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "<rootDir>/test/support/quiet-environment.js",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
  },
  moduleNameMapper: {
    "^pulumi-digitalocean-image-actions$": "<rootDir>/provider/index.ts",
    "^pulumi-digitalocean-image-actions/(.*)$": "<rootDir>/provider/$1",
  },
  testTimeout: 30000,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
};
