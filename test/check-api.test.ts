/**
 * Check API version 2: a check says what it found and the runner stamps the rest (id, check, severity,
 * fixable, memory), enforces `fixable`, and still takes whole version-1 findings as they are.
 */
import {describe, expect, it} from 'vitest'
import {defineCheck, type Check} from '../src/checks/api.js'
import {runCase} from './support/check-tester.js'

const orphan = (m: import('./support/machine.js').Machine) => {
  m.proc({pid: 300, ppid: 1, cmd: 'claude', mib: 400})
  m.proc({pid: 301, ppid: 300, cmd: 'sleep 9', mib: 50})
}
const meta = {id: 'my-check', title: 'Mine', description: 'test'}
const run = (check: Check<any>) => runCase(check, {name: '', machine: orphan})

describe('the runner stamps what a check found', () => {
  it('id from key or pid and start time, check id, severity from the finding, else the check, else warning', async () => {
    const check = defineCheck({
      ...meta,
      severity: 'error',
      detect: () => [
        {key: 'k', message: 'm', reason: 'r'},
        {pid: 300, severity: 'info', message: 'm2', reason: 'r2'},
      ],
    })
    const {findings} = await run(check)
    expect(findings).toEqual([
      {id: 'my-check:k', check: 'my-check', severity: 'error', message: 'm', reason: 'r', pids: [], fixable: false},
      {
        id: 'my-check:300:3000',
        check: 'my-check',
        severity: 'info',
        message: 'm2',
        reason: 'r2',
        pid: 300,
        pids: [300],
        fixable: false,
      },
    ])
    const plain = await run(defineCheck({...meta, detect: () => [{key: 'k', message: 'm', reason: 'r'}]}))
    expect(plain.findings[0].severity).toBe('warning')
  })

  it('ctx.report works like returning; memory counts the pids once; a fix makes the finding fixable', async () => {
    const check = defineCheck({
      ...meta,
      fixable: true,
      detect({report, tree}) {
        report({
          pid: 300,
          pids: [300, 301, 300],
          memory: true,
          message: 'm',
          reason: 'r',
          fix: [
            {
              kind: 'terminate-tree',
              targets: [{pid: 300, ppid: 1, command: 'claude', startTicks: tree.get(300)!.startTicks}],
              reason: 'r',
            },
          ],
        })
      },
    })
    const {findings, actions} = await run(check)
    expect(findings).toMatchObject([
      {id: 'my-check:300:3000', memoryBytes: 450 * 1024 * 1024, memorySource: 'pss', fixable: true},
    ])
    expect(actions).toEqual([
      {kind: 'terminate-tree', targets: [{pid: 300, ppid: 1, command: 'claude', startTicks: 3000}], reason: 'r'},
    ])
  })

  it('a finding with a fix from a check not declared fixable crashes the check', async () => {
    const check = defineCheck({...meta, detect: () => [{key: 'k', message: 'm', reason: 'r', fix: []}]})
    expect((await run(check)).error).toBe('finding my-check:k has a fix, but check my-check is not declared fixable')
  })

  it('refuses a finding with neither key nor pid, and one without its sentences', async () => {
    expect((await run(defineCheck({...meta, detect: () => [{message: 'm', reason: 'r'}]}))).error).toBe(
      'malformed finding: a finding has neither a key nor a pid',
    )
    expect((await run(defineCheck({...meta, detect: () => [{key: 'k', message: 'm'} as never]}))).error).toBe(
      'malformed finding: finding my-check:k lacks message or reason',
    )
  })

  it('takes a whole version-1 finding unchanged', async () => {
    const v1 = {
      id: 'my-check:x',
      check: 'my-check',
      severity: 'warning' as const,
      message: 'm',
      reason: 'r',
      pids: [300],
      fixable: false,
    }
    expect((await run(defineCheck({...meta, detect: () => [v1]}))).findings).toEqual([v1])
  })
})
