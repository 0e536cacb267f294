import {configDefaults, defineConfig} from 'vitest/config'

/** Live tests (private PID namespaces, real tmux servers): every file that starts one is named *.live.test.ts. */
const LIVE = 'test/**/*.live.test.ts'
/** Live tests on the real Claude Code: they start real claudes by the handful, so they run alone, after the rest. */
const REAL = 'test/live/real-*.live.test.ts'

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    // Live tests start private PID namespaces and tmux servers; two cores do not like wide fan-out.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // @oclif/test's runCommand captures stdout itself; vitest's interception would swallow it.
    disableConsoleIntercept: true,
    // Two groups run one after the other: a CPU-heavy file would starve timing-sensitive ones beside it.
    // (`include` lives in the projects: `extends` would add the root's to each.)
    projects: [
      // Unit and live tests share the first group, as one suite (`--project live` runs the live ones alone).
      {extends: true, test: {name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, LIVE], sequence: {groupOrder: 0}}},
      {extends: true, test: {name: 'live', include: [LIVE], exclude: [...configDefaults.exclude, REAL], sequence: {groupOrder: 0}}},
      {extends: true, test: {name: 'real-programs', include: [REAL], sequence: {groupOrder: 1}}},
    ],
  },
})
