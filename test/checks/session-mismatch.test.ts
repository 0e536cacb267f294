import check from '../../checks/session-mismatch.js'
import {testCheck} from '../support/check-tester.js'

testCheck(check, {
  flags: [
    {
      name: 'a dead pane kept by remain-on-exit: a warning whose fix kills that pane only',
      machine(m) {
        const s = m.server({pid: 100})
        m.pane(s, 'work', {pid: 101, cmd: 'bash'})
        m.pane(s, 'work', {pid: 102, cmd: 'bash', dead: true, paneId: '%5'})
      },
      findings: [
        {
          id: 'session-mismatch:dead-pane:/tmp/tmux-1000/default:%5',
          check: 'session-mismatch',
          severity: 'warning',
          message: 'Dead pane %5 in session work kept by remain-on-exit',
          pids: [],
          session: 'work',
          socket: '/tmp/tmux-1000/default',
          fixable: true,
          data: {kind: 'dead-pane', paneId: '%5'},
        },
      ],
      actions: [
        {
          kind: 'tmux',
          socket: '/tmp/tmux-1000/default',
          args: ['kill-pane', '-t', '%5'],
          reason: 'Dead pane %5 in session work kept by remain-on-exit',
        },
      ],
    },
    {
      name: 'an agent session with no claude: a warning, report-only',
      machine(m) {
        m.pane(m.server({pid: 100}), 'gt-idle', {pid: 102, cmd: 'bash'})
      },
      findings: [
        {
          id: 'session-mismatch:no-claude:/tmp/tmux-1000/default:$0',
          session: 'gt-idle',
          pids: [],
          fixable: false,
          data: {kind: 'agent-session-without-claude'},
        },
      ],
      ends: [],
    },
  ],
  ignores: [
    {
      name: 'a session that is not an agent session, and an agent session running claude',
      machine(m) {
        const s = m.server({pid: 100})
        m.pane(s, 'notes', {pid: 101, cmd: 'bash'})
        m.pane(s, 'gt-alpha', {pid: 102, cmd: 'claude'})
      },
    },
  ],
})
