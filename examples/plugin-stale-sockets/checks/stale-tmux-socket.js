// @ts-check
/**
 * tmux sockets whose server is gone. When a tmux server dies without cleaning up (SIGKILL, OOM killer,
 * a crashed WSL session), its socket file stays: `tmux -L name` then fails with "connection refused"
 * (or starts a fresh, empty server) and tools that look for agent sessions on it find nothing.
 *
 * The snapshot already asked every socket it found; a server that did not answer because nobody listens
 * has status `stale`. The fix asks the remediation engine to remove the socket file, which it does only if
 * the path is still a socket owned by the user and no server answers on it at that moment.
 *
 * A factory of the API, so the plugin always uses the defineCheck of the doctor that loads it.
 * @param {import('gt-doctor').GtDoctorApi} api
 */
export default ({defineCheck}) =>
  defineCheck({
    id: 'stale-tmux-socket',
    title: 'Stale tmux sockets',
    description:
      'A tmux socket file with no server behind it (connection refused / no server running). Fixed by removing the socket file.',
    fixable: true,
    requires: ['tmux'],
    detect({snapshot}) {
      return snapshot.tmux.servers
        .filter((s) => s.status === 'stale' && !/no such file/i.test(s.error ?? ''))
        .map((s) => ({
          id: `stale-tmux-socket:${s.socket}`,
          check: 'stale-tmux-socket',
          severity: 'warning',
          message: `Stale tmux socket ${s.socket}: no server answers on it`,
          reason: `tmux said "${s.error ?? 'no server running'}" (socket found by ${s.foundBy.join(', ')})`,
          pids: [],
          socket: s.socket,
          fixable: true,
        }))
    },
    fix(finding) {
      if (!finding.socket) return []
      return [{kind: 'remove-socket', path: finding.socket, reason: finding.message}]
    },
  })
