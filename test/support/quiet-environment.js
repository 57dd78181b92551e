/**
 * Jest's node environment, holding back console.log/info/warn/debug until a
 * test ends: the provider reports its progress on console.log, hundreds of
 * lines a run that only help when a test fails, so they are printed for a
 * failing test (or hook) and dropped otherwise. console.error and jest's own
 * output pass straight through. Tests that assert log lines collect them
 * themselves (collectingLog, or a spy) rather than reading the console.
 */
const { TestEnvironment } = require("jest-environment-node");

const HELD_METHODS = ["log", "info", "warn", "debug"];

class QuietEnvironment extends TestEnvironment {
  held = [];
  originals = new Map();

  handleTestEvent(event) {
    switch (event.name) {
      case "run_start":
        this.hold();
        break;
      case "test_done":
        if (event.test.errors.length > 0) this.replay();
        this.held = [];
        break;
      case "hook_failure":
        this.replay();
        this.held = [];
        break;
      case "run_finish":
        this.release();
        break;
    }
  }

  /** Replaces the held methods on the console the runner gave this test file. */
  hold() {
    const console = this.global.console;
    for (const method of HELD_METHODS) {
      const original = console[method];
      this.originals.set(method, original);
      console[method] = (...args) => this.held.push({ method, args });
    }
  }

  replay() {
    const console = this.global.console;
    for (const { method, args } of this.held) this.originals.get(method).apply(console, args);
  }

  release() {
    const console = this.global.console;
    for (const [method, original] of this.originals) console[method] = original;
    this.originals.clear();
  }
}

module.exports = QuietEnvironment;
