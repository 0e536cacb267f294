import {configDefaults, defineConfig} from 'vitest/config'

// Live tests (private PID namespaces, real tmux servers) are named *.live.test.ts (test/architecture.test.ts
// keeps it so) and run in the suite beside the unit tests.
/** Live tests on the real Claude Code: they start real claudes by the handful, so they run alone, after the rest. */
const REAL = 'test/live/real-*.live.test.ts'
/** GT_TEST_UNIT_ONLY=1: the unit and CLI tests only, no live tier and no tarball install (.ci/run, other Nodes). */
const unitOnly = process.env.GT_TEST_UNIT_ONLY === '1' ? ['test/live/**', 'test/package.test.ts'] : []

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
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, REAL, ...unitOnly],
          sequence: {groupOrder: 0},
        },
      },
      ...(unitOnly.length
        ? []
        : [
            // One real program at a time: with the real Codex tier beside it on two cores, the real claude's Bash
            // tool missed its 90 s once in a CI run (alone it takes 24 s).
            {
              extends: true,
              test: {name: 'real-programs', include: [REAL], fileParallelism: false, sequence: {groupOrder: 1}},
            },
          ]),
    ],
  },
})
