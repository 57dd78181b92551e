// Preloaded (`node --require`) into the dynamic-provider server the engine
// harness starts: the harness keeps the child's stdin open, so end-of-file
// means the test process is gone and the server must not outlive it.
// The real CLI likewise kills its plugins when it exits.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
