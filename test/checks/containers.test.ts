import {expect} from 'vitest'
import claude from '../../checks/orphan-claude.js'
import mcp from '../../checks/orphan-mcp.js'
import {runClientOf} from '../../src/analysis/containers.js'
import {testCheck} from '../support/check-tester.js'
import type {Machine} from '../support/machine.js'

const ID = 'a'.repeat(64)
const OTHER = 'b'.repeat(64)

function dockerClient(
  m: Machine,
  cmd: string,
  containers: Array<{id: string; names: string[]; image: string}>,
  status: 'ok' | 'error' = 'ok',
) {
  m.containers = [
    {runtime: 'docker', status, containers, ...(status === 'ok' ? {} : {error: 'Cannot connect to the Docker daemon'})},
  ]
  m.proc({pid: 800, ppid: 1, ttyNr: 0, cmd})
}

testCheck(mcp, {
  flags: [
    {
      name: 'an orphan docker run -i --rm mcp/x client: end it, then stop (and rm) its one container',
      machine: (m) =>
        dockerClient(m, 'docker run -i --rm mcp/x', [
          {id: ID, names: ['eager_turing'], image: 'mcp/x'},
          {id: OTHER, names: ['web'], image: 'nginx'},
        ]),
      findings: [
        {
          pid: 800,
          reason: expect.stringContaining('a fix stops its docker container eager_turing too'),
          data: expect.objectContaining({
            containers: [{runtime: 'docker', clientPid: 800, id: ID, name: 'eager_turing'}],
          }),
        },
      ],
      ends: [800],
      actions: [
        {kind: 'terminate-tree'},
        {kind: 'stop-container', runtime: 'docker', id: ID, name: 'eager_turing', remove: true, client: {pid: 800}},
      ],
    },
    {
      name: 'by --name, among several containers of the image; without --rm the stopped container is kept',
      machine: (m) => {
        dockerClient(m, 'docker run -i -e TOKEN --name mcp-gh mcp/github', [
          {id: OTHER, names: ['other'], image: 'mcp/github'},
          {id: ID, names: ['mcp-gh'], image: 'mcp/github'},
        ])
        m.proc({pid: 900, ppid: 1, ttyNr: 0, cmd: 'docker run -i mcp/github'})
      },
      findings: [
        {pid: 800},
        {pid: 900, reason: expect.stringContaining('2 containers of mcp/github run for 1 clients')},
      ],
      actions: [{kind: 'terminate-tree'}, {kind: 'stop-container', id: ID, remove: false}, {kind: 'terminate-tree'}],
    },
    {
      name: 'a runtime that could not be asked: the finding says so, and no container is guessed',
      machine: (m) => dockerClient(m, 'docker run -i --rm mcp/x', [], 'error'),
      findings: [
        {pid: 800, reason: expect.stringContaining('docker could not be asked (Cannot connect to the Docker daemon)')},
      ],
      actions: [{kind: 'terminate-tree'}],
    },
    {
      name: 'two clients of one image and no names: which container is whose cannot be told',
      machine: (m) => {
        dockerClient(m, 'docker run -i --rm mcp/x', [{id: ID, names: ['a'], image: 'mcp/x'}])
        m.proc({pid: 900, ppid: 1, ttyNr: 0, cmd: 'docker run -i --rm mcp/x'})
      },
      findings: [{pid: 800, reason: expect.stringContaining('which one is its own cannot be told')}, {pid: 900}],
      actions: [{kind: 'terminate-tree'}, {kind: 'terminate-tree'}],
    },
  ],
  ignores: [
    {
      name: 'a docker run client of a live claude is owned, whatever its container',
      machine: (m) => {
        m.containers = [{runtime: 'docker', status: 'ok', containers: [{id: ID, names: ['c1'], image: 'mcp/x'}]}]
        m.proc({pid: 700, ppid: 1, ttyNr: 34816, cmd: 'claude'})
        m.proc({pid: 701, ppid: 700, ttyNr: 0, cmd: 'docker run -i --rm mcp/x'})
      },
    },
  ],
})

testCheck(claude, {
  flags: [
    {
      name: 'a docker MCP client inside an orphan claude tree: its container is part of that fix',
      machine: (m) => {
        m.containers = [{runtime: 'docker', status: 'ok', containers: [{id: ID, names: ['c1'], image: 'mcp/fetch'}]}]
        m.proc({pid: 700, ppid: 1, ttyNr: 0, cmd: 'claude'})
        m.proc({pid: 701, ppid: 700, ttyNr: 0, cmd: 'docker run -i --rm mcp/fetch'})
      },
      findings: [{pid: 700, pids: [700, 701]}],
      actions: [{kind: 'terminate-tree'}, {kind: 'stop-container', id: ID, client: {pid: 701}}],
    },
  ],
  ignores: [
    {
      name: 'a claude run from a live shell, with its docker MCP client',
      machine: (m) => {
        m.proc({pid: 699, ppid: 1, ttyNr: 34816, cmd: '/bin/bash'})
        m.proc({pid: 700, ppid: 699, ttyNr: 34816, cmd: 'claude'})
        m.proc({pid: 701, ppid: 700, ttyNr: 0, cmd: 'docker run -i --rm mcp/fetch'})
      },
    },
  ],
})

import {describe, it} from 'vitest'
describe('runClientOf', () => {
  it('reads --name, --cidfile and --rm around options that take values', () => {
    const p = (cmd: string) => ({pid: 2, ppid: 1, comm: 'docker', argv: cmd.split(' '), env: {}})
    expect(runClientOf(p('docker --context x run -i -e A --name=n --cidfile /tmp/c --rm mcp/x --rm'))).toEqual({
      runtime: 'docker',
      image: 'mcp/x',
      name: 'n',
      cidfile: '/tmp/c',
      remove: true,
    })
    expect(runClientOf(p('podman container run -ie A -v /a:/b mcp/x'))).toEqual({
      runtime: 'podman',
      image: 'mcp/x',
      remove: false,
    })
    expect(runClientOf(p('docker exec -i c sh'))).toBeUndefined()
  })
})
