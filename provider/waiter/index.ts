export { ActionWatcher, type ActionWatcherOptions, type WaitOptions } from "./action-watcher";
export { ActionErroredError, ActionTimeoutError } from "./errors";
export { deadlineAfter, type Deadline } from "./deadline";
