import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // Live tests start private PID namespaces and tmux servers; two cores do not like wide fan-out.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // @oclif/test's runCommand captures stdout itself; vitest's interception would swallow it.
    disableConsoleIntercept: true,
  },
})
