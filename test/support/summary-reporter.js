/**
 * Ends a jest run with one plain line, "tests: N passed, N failed", that CI
 * log readers which do not know jest's own summary can count.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
    process.stdout.write(`${line}\n`);
  }
}

module.exports = SummaryReporter;
