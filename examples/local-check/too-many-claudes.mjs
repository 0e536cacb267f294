// A local check: name this file in the config's "localChecks" and gt-doctor loads it.
/** @param {import('gt-doctor').GtDoctorApi} api the doctor's own API, handed to the factory */
export default ({defineCheck}) =>
  defineCheck({
    id: 'too-many-claudes',
    title: 'Too many Claude processes',
    description: 'Warns when more Claude Code processes run than a limit (checks.too-many-claudes.options.limit).',
    defaultOptions: {limit: 20},
    detect({snapshot, rules, options}) {
      const claudes = snapshot.processes.filter((p) => p.state !== 'Z' && rules.isClaude(p))
      if (claudes.length <= options.limit) return []
      return [
        {
          key: 'count',
          message: `${claudes.length} Claude processes are running (limit ${options.limit})`,
          reason: 'counted the processes the Claude matching rules accept, live panes and orphans alike',
          pids: claudes.map((p) => p.pid),
        },
      ]
    },
  })
