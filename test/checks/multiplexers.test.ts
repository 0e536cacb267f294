import {expect} from 'vitest'
import claude from '../../checks/orphan-claude.js'
import mcp from '../../checks/orphan-mcp.js'
import {testCheck} from '../support/check-tester.js'
import type {Machine} from '../support/machine.js'

/** A claude in window 0 of a live screen session, under the window's shell. */
function liveScreen(m: Machine, status: 'ok' | 'unresponsive' = 'ok') {
  const s = m.screen({pid: 300, name: 'agents', windows: [0], status})
  m.screenWindow(s, 0, {pid: 301, ttyNr: 34816, cmd: '/bin/bash'})
  m.screenWindow(s, 0, {pid: 302, ppid: 301, ttyNr: 34816, cmd: 'claude'})
  m.screenWindow(s, 0, {pid: 303, ppid: 302, ttyNr: 0, cmd: 'npx -y @modelcontextprotocol/server-memory'})
}

testCheck(claude, {
  flags: [
    {
      name: 'a claude left by a killed screen session (reparented to init, its session gone)',
      machine: (m) => {
        m.muxSessions.push({
          kind: 'screen',
          id: '400.gone',
          name: 'gone',
          status: 'stale',
          error: 'No screen session found.',
          foundBy: ['env'],
        })
        m.proc({pid: 401, ppid: 1, ttyNr: 0, cmd: 'claude', env: {STY: '400.gone', WINDOW: '0'}})
      },
      findings: [
        {check: 'orphan-claude', pid: 401, reason: expect.stringContaining('screen session 400.gone no longer exists')},
      ],
      ends: [401],
    },
    {
      name: 'a claude whose screen window was killed while it ignored SIGHUP: still a child of SCREEN, window not listed',
      machine: (m) => {
        const s = m.screen({pid: 300, name: 'agents', windows: [1]})
        m.screenWindow(s, 0, {pid: 302, ttyNr: 0, cmd: 'claude'})
      },
      findings: [{pid: 302, reason: expect.stringContaining('no longer lists its window 0')}],
      ends: [302],
    },
    {
      name: 'a claude whose live session (under a shell that survived) is gone and no terminal holds it',
      machine: (m) => {
        m.muxSessions.push({kind: 'zellij', id: 'old', name: 'old', status: 'stale', foundBy: ['env']})
        m.proc({pid: 500, ppid: 1, ttyNr: 0, cmd: '/bin/bash', env: {ZELLIJ_SESSION_NAME: 'old', ZELLIJ_PANE_ID: '0'}})
        m.proc({pid: 501, ppid: 500, ttyNr: 0, cmd: 'claude', env: {ZELLIJ_SESSION_NAME: 'old', ZELLIJ_PANE_ID: '0'}})
      },
      findings: [{pid: 501, pids: [501], reason: 'its zellij session old no longer exists and no terminal holds it'}],
      ends: [501],
    },
    {
      name: 'a claude under a screen server that did not answer: cannot verify, never fixed',
      machine: (m) => {
        const s = m.screen({pid: 300, name: 'agents', status: 'unresponsive'})
        m.screenWindow(s, 0, {pid: 302, ttyNr: 0, cmd: 'claude'})
      },
      findings: [
        {
          pid: 302,
          severity: 'info',
          fixable: false,
          reason: expect.stringContaining('screen server (pid 300) could not be asked'),
        },
      ],
      ends: [],
    },
    {
      name: 'a reparented claude naming a zellij session that did not answer: cannot verify',
      machine: (m) => {
        m.zellij({pid: 600, name: 'work', status: 'unresponsive'})
        m.proc({pid: 602, ppid: 1, ttyNr: 0, cmd: 'claude', env: {ZELLIJ_SESSION_NAME: 'work', ZELLIJ_PANE_ID: '3'}})
      },
      findings: [{pid: 602, severity: 'info', fixable: false}],
      ends: [],
    },
  ],
  ignores: [
    {name: 'a claude in a live screen window', machine: liveScreen},
    {
      name: 'a claude in a live zellij pane',
      machine: (m) => {
        const s = m.zellij({pid: 600, name: 'work'})
        m.zellijPane(s, 0, {pid: 601, ttyNr: 34817, cmd: '/bin/zsh'})
        m.zellijPane(s, 0, {pid: 602, ppid: 601, ttyNr: 34817, cmd: 'claude'})
      },
    },
    {
      name: 'a child of SCREEN with no WINDOW variable: its window cannot be proved gone',
      machine: (m) => {
        const s = m.screen({pid: 300, name: 'agents', windows: [1]})
        m.proc({pid: 302, ppid: s.pid, ttyNr: 0, cmd: 'claude'})
      },
    },
  ],
})

testCheck(mcp, {
  flags: [
    {
      name: 'an MCP server left in a killed screen window (a child of SCREEN, window not listed)',
      machine: (m) => {
        const s = m.screen({pid: 300, name: 'agents', windows: [0]})
        m.screenWindow(s, 2, {pid: 310, ttyNr: 0, cmd: 'npx -y @modelcontextprotocol/server-memory'})
      },
      findings: [{pid: 310, severity: 'error', fixable: true}],
      ends: [310],
    },
    {
      name: 'never the SCREEN process itself, even as the child of an orphan',
      machine: (m) => {
        m.proc({pid: 700, ppid: 1, ttyNr: 0, cmd: 'npx -y @modelcontextprotocol/server-memory'})
        m.proc({pid: 701, ppid: 700, comm: 'screen', argv: ['SCREEN', '-D', '-m']})
      },
      findings: [{pid: 700, pids: [700]}],
      ends: [700],
    },
  ],
  ignores: [
    {name: 'an MCP server of a claude in a live screen window', machine: liveScreen},
    {name: 'nor when that screen did not answer (nothing is proved)', machine: (m) => liveScreen(m, 'unresponsive')},
  ],
})

import detached from '../../checks/detached-run.js'
testCheck(detached, {
  flags: [
    {
      name: 'a headless claude left in a killed screen window is a detached run (screen made it a session leader, not setsid)',
      machine: (m) => {
        const s = m.screen({pid: 300, name: 'agents', windows: [0]})
        m.screenWindow(s, 3, {pid: 302, sid: 302, pgid: 302, ttyNr: 0, cmd: 'claude -p fix-the-tests'})
      },
      findings: [{pid: 302, reason: expect.stringContaining('its screen or zellij window was killed')}],
    },
  ],
  ignores: [
    {
      name: 'a headless claude in a live screen window',
      machine: (m) => {
        const s = m.screen({pid: 300, name: 'agents', windows: [0]})
        m.screenWindow(s, 0, {pid: 302, sid: 302, pgid: 302, ttyNr: 0, cmd: 'claude -p fix-the-tests'})
      },
    },
  ],
})
