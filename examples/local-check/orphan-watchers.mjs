// A local check with a fix: name this file in the config's "localChecks" and gt-doctor loads it.
/** @param {import('gt-doctor').GtDoctorApi} api the doctor's own API, handed to the factory */
export default ({defineCheck, treeFinding}) =>
  defineCheck({
    id: 'orphan-watchers',
    title: 'Orphan file watchers',
    description: 'tail -f, entr or watchexec adopted by init: the terminal that read them is gone.',
    fixable: true,
    defaultOptions: {commands: ['tail', 'entr', 'watchexec']},
    detect: ({snapshot, tree, options}) =>
      snapshot.processes
        .filter((p) => p.ppid === 1 && !p.ttyNr && p.uid === snapshot.host.uid && options.commands.includes(p.comm))
        .map((p) => treeFinding(tree, {
          root: p,
          members: tree.subtree(p),
          message: `Orphan ${p.comm} ${p.pid}: ${p.argv.join(' ')}`,
          reason: 'adopted by init, with no terminal: nothing reads what it prints',
          endTree: true, // the fix: end it and its children, each re-verified first
        })),
  })
